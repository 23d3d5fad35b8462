import ZGridProtocol
import ZeroMQ

extension WorkerLoop {
    /// A socket that receives an event each time a handshake of `socket` succeeds or fails. When
    /// the monitor cannot be set up, it stays silent, and a silent broker is reported without a
    /// reason.
    static func watchHandshakes(of socket: borrowing Socket, _ context: Context) throws(ZMQError) -> Socket {
        try socket.connectionEvents(context, label: "zgrid-worker-handshakes")
    }

    /// Keeps why the last handshake failed, until one succeeds.
    mutating func noteHandshake(_ event: MonitorEvent) {
        switch event {
        case .handshakeSucceeded:
            handshakeFailure = nil
        case .handshakeFailed(let refusedKey):
            handshakeFailure = HandshakeFailure.message(refusedKey: refusedKey, role: "worker", keysSetting: "worker_keys")
        case .disconnected, .other:
            break
        }
    }
}
