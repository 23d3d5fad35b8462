/// When a worker sends heartbeats, which decides when the broker counts it as lost for silence.
public enum WorkerHeartbeats: Sendable, Equatable {
    /// At all times, busy or idle (ZGW01, whose reference worker heartbeats while its calls run):
    /// a worker silent for longer than the expiry is lost, with or without calls in flight, and
    /// sooner once the shell finds its connection closed (``BrokerEvent/connectionClosed(from:)``).
    case always
    /// Only while it waits for work (MDP/0.1, written like the ZeroMQ guide's reference worker,
    /// mdwrkapi, which runs a request without reading or writing its socket). While such a worker
    /// runs a call, silence does not expire it: its calls stay bound by their own deadlines. Once
    /// none of its calls is running (each answered, or ended by deadline, cancel or its client's
    /// loss), the expiry applies again, counted from its last message or from the end of its last
    /// call, whichever came later. After its own DISCONNECT it gets no such allowance. Busy or
    /// not, it is lost once the shell finds its connection closed (``BrokerEvent/connectionClosed(from:)``).
    case whileIdle
}
