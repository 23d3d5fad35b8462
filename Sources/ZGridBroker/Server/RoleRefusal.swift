import ZGridProtocol
import ZeroMQ

/// The broker's answers to commands from a peer whose CURVE key does not have the role they need.
/// A client command from a key without the client role (a worker's key used by a client) gets
/// ERROR `MALFORMED` saying so, for the request id in frame 3 (frame 2 as the client sent it); a
/// READY from a key without the worker role gets DISCONNECT with the reason in its frame 2.
/// Without them, the peer met silence until its time limits: the handshake succeeded, so it had no
/// failed handshake to report either.
enum RoleRefusal {
    /// The client commands answered: those that carry a request id and wait for an answer.
    static let answered: Set<UInt8> = Set(
        [ClientCommand.call, .scatter, .submit, .enqueue, .job, .jobs, .admin, .subscribe].map(\.rawValue))

    /// The request id and message of the ERROR answering `message` (the sender's routing identity in
    /// frame 0), from a peer whose ZAP role is `role`; nil when it is not a client command that
    /// waits for an answer.
    static func clientError(_ message: Multipart, role: String) -> (requestID: UInt64, message: String)? {
        guard message.count > 3, !BrokerInbound.speaksAsWorker(message),
            message.withBytes(1, { $0.elementsEqual(ProtocolTag.client) }),
            let command = message.withBytes(2, { $0.count == 1 ? $0.first : nil }), answered.contains(command),
            let requestID = message.withBytes(3, { $0.count == 8 ? $0.readBigEndianUInt64() : nil })
        else { return nil }
        let listed = role.contains("worker") ? "is listed in its [security] worker_keys only" : "has no client role"
        return (
            requestID,
            "the broker refuses client commands from this connection: its CURVE key \(listed), not in client_keys "
                + "(is this client using a worker's key pair?)"
        )
    }

    /// The reason the DISCONNECT answering `message` (the sender's routing identity in frame 0)
    /// gives, from a peer whose ZAP role is `role`; nil when it is not a ZGW01 READY.
    static func workerReason(_ message: Multipart, role: String) -> String? {
        guard message.count > 2, message.withBytes(1, { $0.elementsEqual(ProtocolTag.worker) }),
            message.withBytes(2, { $0.count == 1 && $0.first == WorkerCommand.ready.rawValue })
        else { return nil }
        let listed = role.contains("client") ? "is listed in its [security] client_keys only" : "has no worker role"
        return "the broker refuses to register this worker: its CURVE key \(listed), not in worker_keys "
            + "(is this worker using a client's key pair?)"
    }
}
