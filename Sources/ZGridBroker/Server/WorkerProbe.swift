import ZGridProtocol
import ZeroMQ

/// Sends the broker's HEARTBEATs to workers with mandatory routing (``Socket/sendRouted(to:_:)``)
/// and keeps the workers whose connection was found gone: a worker process that died (killed, even
/// without DISCONNECT) closes its connection, and the ROUTER then no longer routes to its identity.
/// The loop hands them to the core as ``BrokerEvent/connectionClosed(from:)``, so the worker is lost
/// within one heartbeat interval instead of at the expiry. Only heartbeats go out this way: the
/// per-call sends are untouched.
struct WorkerProbe {
    /// Workers found disconnected, not yet told to the core.
    private(set) var lost: [PeerID] = []

    /// Sends `frames` (the whole message after the routing identity) to `worker`, noting it in
    /// ``lost`` when no connection has its identity any more.
    mutating func heartbeat(_ worker: PeerID, _ frames: [[UInt8]], _ socket: borrowing Socket) throws(ZMQError) {
        let outcome = try worker.withBytes { (raw) throws(ZMQError) -> RoutedSendOutcome in try socket.sendRouted(to: raw, frames) }
        if outcome == .unreachable { lost.append(worker) }
    }

    /// Hands over the workers found disconnected since the last call.
    mutating func takeLost() -> [PeerID] {
        defer { lost.removeAll() }
        return lost
    }
}
