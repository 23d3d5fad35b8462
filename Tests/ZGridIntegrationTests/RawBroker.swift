import Foundation
import Synchronization
import Testing
import ZGridProtocol
import ZGridWorker
import ZeroMQ

/// A raw ROUTER socket playing the broker for one worker, to test the worker side of the protocol
/// with messages the real broker does not send (yet). It heartbeats the worker while it waits, so
/// the worker does not give up on it.
final class RawBroker: @unchecked Sendable {
    // @unchecked: the socket is used by one test at a time, each call on its own thread in turn.
    let endpoint: String
    private let socket: Socket
    private let worker = Mutex<[UInt8]?>(nil)

    init() throws {
        let context = try Context()
        socket = try Socket(context, type: .router)
        try socket.bind("tcp://127.0.0.1:0")
        endpoint = try socket.lastEndpoint()
    }

    /// The next message from the worker other than HEARTBEAT, without its identity frame; nil
    /// after `seconds`. The first message's sender becomes the worker all sends go to.
    func next(seconds: Double = 5) async -> [[UInt8]]? {
        await onThread { self.receive(seconds: seconds) }
    }

    /// Every message other than HEARTBEAT that arrives within `seconds`, without identity frames,
    /// while this broker stays silent (it sends no heartbeats meanwhile).
    func silentlyCollect(seconds: Double) async -> [[[UInt8]]] {
        await onThread {
            var messages: [[[UInt8]]] = []
            let deadline = Date().addingTimeInterval(seconds)
            while let message = self.receive(seconds: deadline.timeIntervalSinceNow, heartbeating: false) { messages.append(message) }
            return messages
        }
    }

    /// Forgets the worker's identity: the next message's sender becomes the worker (a worker that
    /// was told DISCONNECT connects a new socket).
    func forgetWorker() { worker.withLock { $0 = nil } }

    /// Sends `frames` (after the protocol tag) to the worker.
    func send(_ frames: [[UInt8]]) async {
        await onThread {
            guard let identity = self.worker.withLock({ $0 }) else { return }
            _ = try? self.socket.send(frames: [identity, ProtocolTag.worker] + frames, blocking: true)
        }
    }

    /// Sends a REQUEST for `function` with `header` and `frames` after it.
    func request(_ id: UInt64, _ function: String, header: CallHeader, _ frames: [[UInt8]]) async {
        await send([[WorkerCommand.request.rawValue], .bigEndian(id), bytes(function), header.encoded] + frames)
    }

    private func receive(seconds: Double, heartbeating: Bool = true) -> [[UInt8]]? {
        let deadline = Date().addingTimeInterval(seconds)
        var lastBeat = Date.distantPast
        var poller = Poller([socket.pollItem()])
        while Date() < deadline {
            if heartbeating, let identity = worker.withLock({ $0 }), Date().timeIntervalSince(lastBeat) > 0.1 {
                _ = try? socket.send(frames: [identity, ProtocolTag.worker, [WorkerCommand.heartbeat.rawValue]])
                lastBeat = Date()
            }
            guard (try? poller.poll(timeoutMilliseconds: 50)) != nil, poller.isReadable(0) else { continue }
            guard let frames = try? socket.receiveFrames(blocking: false), frames.count >= 3 else { continue }
            worker.withLock { if $0 == nil { $0 = frames[0] } }
            if frames[2] == [WorkerCommand.heartbeat.rawValue] { continue }
            return Array(frames.dropFirst())
        }
        return nil
    }
}

/// A REPLY or ERROR from a worker, as a ``RawBroker`` received it.
struct WorkerAnswer {
    /// The command byte.
    let command: WorkerCommand?
    /// The dispatch id.
    let id: UInt64
    /// The frames after the id.
    let frames: [[UInt8]]

    /// Reads `message` (without its identity frame); nil unless it is a ZGW01 message with an id.
    init?(_ message: [[UInt8]]?) {
        guard let message, message.count >= 3, message[0] == ProtocolTag.worker, message[1].count == 1, message[2].count == 8 else {
            return nil
        }
        command = WorkerCommand(rawValue: message[1][0])
        id = uint64(message[2])
        frames = Array(message.dropFirst(3))
    }

    /// For an ERROR: its code and message.
    var error: (code: ErrorCode?, message: String)? {
        guard command == .error, frames.count == 2, frames[0].count == 2 else { return nil }
        return (ErrorCode(rawValue: UInt16(frames[0][0]) << 8 | UInt16(frames[0][1])), String(decoding: frames[1], as: UTF8.self))
    }
}

/// Starts a worker connected to `raw` (test heartbeats), lets `setup` register functions, and
/// returns it with the READY it sent.
func startWorker(
    on raw: RawBroker, concurrency: Int = 2, stuckGraceMilliseconds: Int64 = 5_000, _ setup: (Worker) -> Void
) async throws -> (RunningWorker, ready: [[UInt8]]) {
    let worker = Worker(
        broker: raw.endpoint, concurrency: concurrency, heartbeat: testHeartbeat, drainTimeoutMilliseconds: 2_000,
        stuckGraceMilliseconds: stuckGraceMilliseconds, logger: quietLogger("test.worker"))
    setup(worker)
    let task = Task { try await worker.run() }
    guard let ready = await raw.next(), ready.count >= 2, ready[1] == [WorkerCommand.ready.rawValue] else {
        worker.stop()
        throw TestTimeout(what: "READY from the worker")
    }
    return (RunningWorker(worker: worker, task: task), ready)
}
