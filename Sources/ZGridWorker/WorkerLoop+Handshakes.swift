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
            handshakeFailure = HandshakeFailure.message(
                refusedKey: refusedKey, role: "worker", keysSetting: "worker_keys", curve: settings.security != nil)
        case .disconnected, .other:
            break
        }
    }

    /// Notes a message under the tag of another protocol version, `theirs`: logged as an error once
    /// a session. It is not taken for a sign of life, so the broker counts as silent, and the
    /// worker connects again (a broker of this version may take its place).
    mutating func noteOtherVersion(_ theirs: String) {
        guard versionMismatch == nil else { return }
        let reason = ProtocolVersion.mismatch(peer: "broker", speaks: theirs, side: "worker", ours: ProtocolTag.worker)
        versionMismatch = reason
        logger.error("\(reason) (broker \(settings.broker))")
    }
}
