import Foundation
import ZGridProtocol
import ZeroMQ

/// What a fuzz run sent and what came back.
struct FuzzTally: Sendable {
    /// Messages sent.
    var sent = 0
    /// Of those, mutated after being built from a valid message.
    var mutated = 0
    /// Of those, with a frame over the broker's frame limit.
    var oversized = 0
    /// Persona sockets closed and opened again.
    var reconnects = 0
    /// Messages sent by family.
    var families: [String: Int] = [:]
    /// Messages received from the broker, by kind.
    var received: [String: Int] = [:]
    /// REQUESTs answered (some twice, some with ERROR); every seventh is left unanswered.
    var requestsAnswered = 0
    /// Pacing calls sent (a CALL to the real function after every ``FuzzSender/paceEvery`` messages).
    var paced = 0
    /// Pacing calls answered with their own payload.
    var pacedAnswered = 0
    /// Pacing calls answered with anything else (another payload, an ERROR).
    var pacedWrong = 0
    /// The first wrong answer to a pacing call.
    var pacedProblem: String?
    /// Set when the broker stopped taking messages or a socket failed; the run then ended early.
    var failure: String?
}

/// Sends a ``FuzzGenerator``'s messages to a broker over one DEALER socket per persona, on the
/// calling thread, reading what comes back and answering the REQUESTs the broker sends to the
/// fuzzer's worker registrations (promptly, late, twice, with ERROR, or never).
///
/// Every ``paceEvery`` messages the client persona calls the real function and waits (up to 5 s)
/// for the reply: the broker handles a peer's messages in order, so the fuzzer never runs far
/// ahead of it, and what the broker holds is its own state, not a backlog in libzmq's queues. The
/// reply must carry the call's payload. (Oversized frames, after which libzmq cuts the connection,
/// are sent by the stranger persona only.)
final class FuzzSender {
    /// One persona's socket.
    private final class Peer {
        var socket: Socket
        init(_ socket: consuming Socket) { self.socket = socket }
    }

    private let endpoint: String
    private let context: Context
    private var peers: [Peer] = []
    private let inbox = Multipart(capacity: 300)
    private var tally = FuzzTally()
    private var requestsSeen = 0
    /// How long one send may wait for the broker to take a message before the run fails.
    private let stallSeconds: Double
    /// The function real workers serve as an echo, for pacing calls.
    private let realFunction: String
    /// The request id of the pacing call waited for, and its payload.
    private var pace: (id: UInt64, payload: [UInt8])?
    /// Messages sent between pacing calls.
    static let paceEvery = 1000
    /// Pacing calls use request ids from here up, which the generator never picks (it picks 1…64
    /// or a random 64-bit value: a collision is a 1 in 2^62 chance per message).
    private static let paceIDBase: UInt64 = 1 << 62

    /// Opens one socket per persona, connected to `endpoint`; pacing calls go to `realFunction`.
    init(endpoint: String, realFunction: String, stallSeconds: Double = 20) throws(ZMQError) {
        self.endpoint = endpoint
        self.realFunction = realFunction
        self.stallSeconds = stallSeconds
        context = try Context()
        for _ in FuzzPersona.allCases { peers.append(Peer(try openSocket())) }
    }

    private func openSocket() throws(ZMQError) -> Socket {
        let socket = try Socket(context, type: .dealer)
        try socket.setLinger(milliseconds: 500)
        try socket.connect(endpoint)
        return socket
    }

    /// Sends `messages` messages from `generator`, calling `progress` every 100,000, and returns
    /// the tally. Closes the sockets before returning.
    func run(_ generator: inout FuzzGenerator, messages: Int, progress: (FuzzTally) -> Void = { _ in }) -> FuzzTally {
        do {
            while tally.sent < messages {
                switch generator.next() {
                case .reconnect(let persona):
                    peers[persona.rawValue].socket = try openSocket()
                    tally.reconnects += 1
                case .send(let message):
                    guard try send(message.frames, on: peers[message.persona.rawValue]) else {
                        tally.failure = "the broker took no message for \(Int(stallSeconds)) s (after \(tally.sent) messages)"
                        return finish()
                    }
                    tally.sent += 1
                    tally.families[message.family, default: 0] += 1
                    if message.mutated { tally.mutated += 1 }
                    if message.oversized { tally.oversized += 1 }
                    if tally.sent % 8 == 0 { try drain() }
                    if tally.sent % Self.paceEvery == 0 { try paceCall() }
                    if tally.sent % 100_000 == 0 { progress(tally) }
                }
            }
            // Take in the last answers for a moment, so late REQUESTs are answered too.
            let until = Date().addingTimeInterval(0.3)
            while Date() < until {
                try drain()
                Thread.sleep(forTimeInterval: 0.01)
            }
        } catch {
            tally.failure = "socket error: \(error)"
        }
        return finish()
    }

    /// Calls the real function from the client persona and waits up to 5 s for the answer.
    private func paceCall() throws(ZMQError) {
        tally.paced += 1
        let id = Self.paceIDBase + UInt64(tally.paced)
        let payload = Array("pace \(tally.paced)".utf8)
        pace = (id, payload)
        let frames = [
            ProtocolTag.client, [ClientCommand.call.rawValue], .bigEndian(id), Array(realFunction.utf8),
            CallHeader(timeoutMilliseconds: 10_000).encoded, payload,
        ]
        guard try send(frames, on: peers[FuzzPersona.client.rawValue]) else { return }
        let deadline = Date().addingTimeInterval(5)
        while pace != nil, Date() < deadline {
            var poller = Poller(peers.map { $0.socket.pollItem() })
            try poller.poll(timeoutMilliseconds: 10)
            try drain()
        }
        pace = nil
    }

    private func finish() -> FuzzTally {
        peers.removeAll()
        return tally
    }

    /// Sends one message, waiting (while reading) up to ``stallSeconds`` for the socket to take it.
    private func send(_ frames: [[UInt8]], on peer: Peer) throws(ZMQError) -> Bool {
        let deadline = Date().addingTimeInterval(stallSeconds)
        while !(try peer.socket.send(frames[0], more: frames.count > 1)) {
            try drain()
            var poller = Poller([peer.socket.pollItem(readable: false, writable: true)])
            try poller.poll(timeoutMilliseconds: 20)
            if Date() > deadline { return false }
        }
        for (index, frame) in frames.enumerated().dropFirst() {
            try peer.socket.send(frame, more: index < frames.count - 1, blocking: true)
        }
        return true
    }

    /// Reads everything waiting on every socket, counting it and answering REQUESTs.
    private func drain() throws(ZMQError) {
        for peer in peers {
            for _ in 0..<256 {
                guard try peer.socket.receive(into: inbox) else { break }
                try handleInbox(peer)
            }
        }
    }

    private func handleInbox(_ peer: Peer) throws(ZMQError) {
        let frames = inbox.count
        guard frames >= 2 else {
            tally.received["other", default: 0] += 1
            return
        }
        let tag = inbox.bytes(0)
        if tag == ProtocolTag.client, inbox.size(1) == 1, let command = ClientCommand(rawValue: inbox.bytes(1)[0]) {
            tally.received["zgc.\(command)", default: 0] += 1
            if let pace, command == .replies {
                // Several results at once: an id table (frame 2), then one payload frame per id. The
                // pacing call's, if there, is one of them.
                let ids =
                    inbox.size(2) == 8 * (frames - 3)
                    ? inbox.withBytes(2) { raw in (0..<(frames - 3)).map { raw.readBigEndianUInt64(at: 8 * $0) } } : []
                for (position, id) in ids.enumerated() where id == pace.id {
                    self.pace = nil
                    if inbox.bytes(3 + position) == pace.payload {
                        tally.pacedAnswered += 1
                    } else {
                        tally.pacedWrong += 1
                        if tally.pacedProblem == nil {
                            tally.pacedProblem = "pacing call \(pace.id - Self.paceIDBase) answered another payload"
                        }
                    }
                }
            } else if let pace, frames >= 3, inbox.size(2) == 8, inbox.withBytes(2, { $0.readBigEndianUInt64() }) == pace.id {
                self.pace = nil
                if command == .reply, (3..<frames).flatMap({ inbox.bytes($0) }) == pace.payload {
                    tally.pacedAnswered += 1
                } else {
                    tally.pacedWrong += 1
                    if tally.pacedProblem == nil {
                        tally.pacedProblem = "pacing call \(pace.id - Self.paceIDBase) answered \(command) with \(frames - 3) frame(s)"
                    }
                }
            }
        } else if tag == ProtocolTag.worker, inbox.size(1) == 1, let command = WorkerCommand(rawValue: inbox.bytes(1)[0]) {
            tally.received["zgw.\(command)", default: 0] += 1
            if command == .request, frames >= 5, inbox.size(2) == 8 {
                try answer(peer, id: inbox.bytes(2), payload: (5..<frames).map { inbox.bytes($0) }, majordomo: false)
            } else if command == .requests, frames >= 3 {
                let requests = inbox.withBytes(2) { BatchedRequest.decodeTable($0, firstPayload: 3) } ?? []
                for request in requests where request.payloadIndex < frames {
                    try answer(peer, id: .bigEndian(request.id), payload: [inbox.bytes(request.payloadIndex)], majordomo: false)
                }
            }
        } else if tag.isEmpty, frames >= 3 {
            let command = inbox.size(2) == 1 ? inbox.bytes(2)[0] : 0
            tally.received["mdp.\(command)", default: 0] += 1
            if inbox.bytes(1) == Array("MDPW01".utf8), command == 0x02, frames >= 5 {
                try answer(peer, id: inbox.bytes(3), payload: (5..<frames).map { inbox.bytes($0) }, majordomo: true)
            }
        } else {
            tally.received["other", default: 0] += 1
        }
    }

    /// Answers a REQUEST the way a sloppy worker would: mostly a REPLY, sometimes an ERROR or
    /// two REPLYs, and every seventh not at all.
    private func answer(_ peer: Peer, id: [UInt8], payload: [[UInt8]], majordomo: Bool) throws(ZMQError) {
        requestsSeen += 1
        guard requestsSeen % 7 != 0 else { return }
        tally.requestsAnswered += 1
        let reply: [[UInt8]]
        if majordomo {
            reply = [[], Array("MDPW01".utf8), [0x03], id, []] + (payload.isEmpty ? [[]] : payload)
        } else if requestsSeen % 5 == 0 {
            reply = [ProtocolTag.worker, [WorkerCommand.error.rawValue], id, ErrorCode.handlerError.encoded, Array("fuzz says no".utf8)]
        } else {
            reply = [ProtocolTag.worker, [WorkerCommand.reply.rawValue], id] + payload
        }
        _ = try peer.socket.send(frames: reply)
        if requestsSeen % 11 == 0 { _ = try peer.socket.send(frames: reply) }
    }
}
