import ZGridProtocol
import ZeroMQ

/// The broker's answer to a message under the tag of another version of its protocol (`ZGC02`,
/// `ZGW02`…): malformed to this broker, but answered all the same, in this broker's version, so
/// that its peer learns at once that the two do not speak the same version instead of waiting for
/// its time limits (see ``ProtocolVersion``).
enum OtherVersionAnswer: Equatable {
    /// To a client: ERROR `MALFORMED` naming both versions, for the request id in the frame after
    /// the command (frame 2 as the client sent it) when that is 8 bytes long (0 otherwise).
    case clientError(requestID: UInt64, message: String)
    /// To a worker: DISCONNECT (the worker protocol has no ERROR towards a worker).
    case workerDisconnect

    /// The answer to `message` (the sender's routing identity in frame 0, the tag in frame 1), nil
    /// when its tag is not that of another version.
    init?(_ message: Multipart) {
        if let theirs = ProtocolVersion.otherVersion(of: ProtocolTag.client, in: message, at: 1) {
            let requestID = message.count > 3 ? message.withBytes(3) { $0.count == 8 ? $0.readBigEndianUInt64() : 0 } : 0
            self = .clientError(
                requestID: requestID,
                message: ProtocolVersion.mismatch(peer: "client", speaks: theirs, side: "broker", ours: ProtocolTag.client))
        } else if ProtocolVersion.otherVersion(of: ProtocolTag.worker, in: message, at: 1) != nil {
            self = .workerDisconnect
        } else {
            return nil
        }
    }
}
