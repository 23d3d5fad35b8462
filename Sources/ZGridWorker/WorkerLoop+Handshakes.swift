import ZeroMQ

extension WorkerLoop {
    /// A socket that receives an event each time a handshake of `socket` succeeds or fails. When
    /// the monitor cannot be set up, it stays silent, and a silent broker is reported without a
    /// reason.
    static func watchHandshakes(of socket: borrowing Socket, _ context: Context) throws(ZMQError) -> Socket {
        let events = try Socket(context, type: .pair)
        let endpoint = "inproc://zgrid-worker-handshakes-\(UInt64.random(in: 0...UInt64.max))"
        if (try? socket.monitorConnections(on: endpoint)) != nil { try? events.connect(endpoint) }
        return events
    }

    /// Keeps why the last handshake failed, until one succeeds.
    mutating func noteHandshake(_ event: MonitorEvent) {
        switch event {
        case .handshakeSucceeded:
            handshakeFailure = nil
        case .handshakeFailed(let refusedKey):
            handshakeFailure =
                refusedKey
                ? "the broker refused this worker's CURVE key: is its public key in the broker's [security] worker_keys?"
                : "the security handshake with the broker failed: is the broker's public key right, and is CURVE on at both ends?"
        case .disconnected, .other:
            break
        }
    }
}
