import ZeroMQ

/// Constants of the Majordomo Protocol MDP/0.1 (ZeroMQ RFC 7) and of its management interface MMI
/// (RFC 8), which the broker speaks on its ROUTER socket next to ZGP/1.
///
/// Every MDP message starts with an empty frame (the REQ envelope delimiter), then a 6-byte tag.
/// ZGP messages never start with an empty frame, which tells the two apart.
public enum Majordomo {
    /// The tag of MDP/Client messages (REQUEST and REPLY): `MDPC01`.
    public static let clientTag: [UInt8] = Array("MDPC01".utf8)
    /// The tag of MDP/Worker messages: `MDPW01`.
    public static let workerTag: [UInt8] = Array("MDPW01".utf8)
    /// The prefix of services the broker answers itself (RFC 8).
    public static let managementPrefix = "mmi."
    /// The MMI service that says whether a service has a worker: `200` or `404`.
    public static let serviceLookup = "mmi.service"
    /// MMI's answer: some worker serves the service.
    public static let found = "200"
    /// MMI's answer: no worker serves the service.
    public static let notFound = "404"
    /// MMI's answer to any other `mmi.` service.
    public static let notImplemented = "501"
}

/// MDP/Worker command bytes (frame 2 of a worker message, after the empty frame and the tag).
public enum MajordomoCommand: UInt8, Sendable, CaseIterable {
    /// Worker → broker: the one service the worker serves.
    case ready = 0x01
    /// Broker → worker: a request, with the client address frame and an empty frame before the body.
    case request = 0x02
    /// Worker → broker: the reply to a request, addressed like the request.
    case reply = 0x03
    /// Both ways: liveness.
    case heartbeat = 0x04
    /// Both ways: the end of the worker's session.
    case disconnect = 0x05
}

/// An MDP message received by the broker, decoded except for body frames, which stay in the
/// ``Multipart`` buffer from `bodyStart` on.
public enum MajordomoInbound: Sendable, Equatable {
    /// MDP/Client REQUEST for `service`.
    case request(service: String, bodyStart: Int)
    /// MDP/Worker READY for `service`.
    case ready(service: String)
    /// MDP/Worker REPLY; the client address frame holds the broker's 8-byte dispatch id.
    case reply(dispatchID: UInt64, bodyStart: Int)
    /// MDP/Worker HEARTBEAT.
    case heartbeat
    /// MDP/Worker DISCONNECT.
    case disconnect

    /// Whether a message whose frame 0 is the sender's routing identity is MDP: frame 1 is empty.
    public static func isMajordomo(_ message: Multipart) -> Bool {
        message.count >= 2 && message.size(1) == 0
    }

    /// Decodes an MDP message whose frame 0 is the sender's routing identity and frame 1 the empty
    /// delimiter. Service names follow the rules of function names. Bodies may be empty.
    public static func decode(_ message: Multipart) -> Result<MajordomoInbound, MalformedReason> {
        if message.truncated { return .failure(.tooManyFrames) }
        guard message.count >= 4 else { return .failure(.missingFrames) }
        guard message.size(1) == 0 else { return .failure(.badEnvelope) }
        if message.frameEquals(2, Majordomo.clientTag) {
            guard let service = message.functionName(3) else { return .failure(.badFunctionName) }
            return .success(.request(service: service, bodyStart: 4))
        }
        guard message.frameEquals(2, Majordomo.workerTag) else { return .failure(.unknownProtocol) }
        guard let byte = message.singleByte(3), let command = MajordomoCommand(rawValue: byte) else {
            return .failure(.unknownCommand)
        }
        switch command {
        case .ready:
            guard message.count >= 5 else { return .failure(.missingFrames) }
            guard let service = message.functionName(4) else { return .failure(.badFunctionName) }
            return .success(.ready(service: service))
        case .reply:
            guard message.count >= 6 else { return .failure(.missingFrames) }
            guard let id = message.id(4) else { return .failure(.badID) }
            guard message.size(5) == 0 else { return .failure(.badEnvelope) }
            return .success(.reply(dispatchID: id, bodyStart: 6))
        case .heartbeat:
            return .success(.heartbeat)
        case .disconnect:
            return .success(.disconnect)
        case .request:
            return .failure(.unknownCommand)
        }
    }
}

extension Socket {
    /// Sends one MDP message: `[peer][empty][frames…][body…]`. With a `body`, at least one body
    /// frame goes out (an empty one when its range is empty), as RFC 7 asks of REQUEST and REPLY.
    /// Never blocks: returns false when the socket would have blocked or the peer is unknown.
    @discardableResult
    public func sendMajordomo(to peer: PeerID, _ frames: [[UInt8]], body: PayloadFrames? = nil) throws(ZMQError) -> Bool {
        let sent = try peer.withBytes { (raw) throws(ZMQError) -> Bool in try send(raw, more: true) }
        guard sent else { return false }
        guard try send([], more: true) else { return false }
        for (index, frame) in frames.enumerated() {
            try send(frame, more: index < frames.count - 1 || body != nil)
        }
        guard let body else { return true }
        if body.range.isEmpty {
            try send([], more: false)
        } else {
            try send(frames: body.range, of: body.message, consume: body.consume)
        }
        return true
    }
}

extension MajordomoCommand {
    /// The frames of a broker → worker command after the empty frame: tag and command byte, then
    /// for REQUEST the dispatch id as client address and the empty envelope delimiter.
    public func frames(dispatchID: UInt64? = nil) -> [[UInt8]] {
        var frames: [[UInt8]] = [Majordomo.workerTag, [rawValue]]
        if let dispatchID { frames += [.bigEndian(dispatchID), []] }
        return frames
    }
}
