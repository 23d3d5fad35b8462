import ZGridProtocol
import ZeroMQ

/// Who decodes a message: the broker (ROUTER: an identity frame first), a client or a worker.
enum Receiver: CaseIterable, CustomStringConvertible {
    case broker, client, worker

    var description: String {
        switch self {
        case .broker: "the broker"
        case .client: "a client"
        case .worker: "a worker"
        }
    }

    /// Why this receiver refuses `frames` (as sent by a DEALER peer, or by the broker), or nil
    /// when it decodes them.
    func refusal(of frames: [[UInt8]]) -> MalformedReason? {
        let message = Multipart(capacity: 300)
        if self == .broker { message.append([0, 0x80, 0, 0, 0x2A]) }
        for frame in frames { message.append(frame) }
        switch self {
        case .broker:
            if case .failure(let reason) = BrokerInbound.decode(message) { return reason }
        case .client:
            if case .failure(let reason) = ClientInbound.decode(message) { return reason }
        case .worker:
            if case .failure(let reason) = WorkerInbound.decode(message) { return reason }
        }
        return nil
    }
}

/// The smallest well-formed message of each command, frame by frame as its sender sends it, and
/// a frame that may follow it where more are allowed.
enum ExampleMessages {
    private static let id: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 1]
    private static let function = Array("echo".utf8)
    private static let header = CallHeader(timeoutMilliseconds: 1000).encoded
    private static let json = Array("{}".utf8)

    /// A request table of two calls, for CALLS and REQUESTS.
    private static var table: [UInt8] {
        var bytes: [UInt8] = []
        BatchedRequest.encode(id: 1, header: CallHeader(), function: "echo", into: &bytes)
        BatchedRequest.encode(id: 2, header: CallHeader(), function: "echo", into: &bytes)
        return bytes
    }

    /// The smallest well-formed ZGC01 message of `command`.
    static func smallest(_ command: ClientCommand) -> [[UInt8]] {
        let rest: [[UInt8]] =
            switch command {
            case .call: [id, function, header]
            case .cancel, .reply: [id]
            case .error: [id, [0, ErrorCode.busy.rawValue.low], Array("m".utf8)]
            case .heartbeat: []
            case .scatter: [id, function, header, ScatterSpec(mode: .broadcast).encoded]
            case .part: [id, PartHeader(index: 0, error: nil).encoded]
            case .done: [id, ScatterSummary(parts: 1, succeeded: 1, failed: 0).encoded]
            case .submit, .enqueue: [id, function, JobSpec().encoded, [], []]
            case .accepted, .eventAck: [id, id]
            case .job: [id, [JobVerb.status.rawValue], id]
            case .jobs: [id, [JobsVerb.list.rawValue], json]
            case .jobReply, .adminReply, .subscribe, .event: [id, json]
            case .admin: [id, [AdminVerb.status.rawValue]]
            case .parts: [id, PartHeader(index: 0, error: nil).encoded, []]
            case .calls: [table, [], []]
            case .replies: [id + id, [], []]
            }
        return [ProtocolTag.client, [command.rawValue]] + rest
    }

    /// The smallest well-formed ZGW01 message of `command`.
    static func smallest(_ command: WorkerCommand) -> [[UInt8]] {
        let rest: [[UInt8]] =
            switch command {
            case .ready: [[0, 0, 0, 1], function]
            case .request: [id, function, header]
            case .reply, .cancel: [id]
            case .error: [id, [0, ErrorCode.handlerError.rawValue.low], Array("m".utf8)]
            case .heartbeat, .disconnect: []
            case .progress: [id, [0, 0, 0, 0], []]
            case .requests: [table, [], []]
            case .replies: [id + id, [], []]
            }
        return [ProtocolTag.worker, [command.rawValue]] + rest
    }

    /// A frame that may follow the last one where a command takes more (a retry-after for ERROR).
    static let further: [UInt8] = [0, 0, 0, 100]
}

extension UInt16 {
    /// The low byte.
    fileprivate var low: UInt8 { UInt8(truncatingIfNeeded: self) }
}
