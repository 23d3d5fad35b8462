/// How often peers send heartbeats and how many may be missed before a peer counts as gone.
public struct HeartbeatSettings: Sendable, Equatable {
    /// The interval between heartbeats, in milliseconds.
    public var intervalMilliseconds: Int64
    /// How many intervals of silence make a peer gone.
    public var liveness: Int64

    /// Creates settings; the defaults are a 1 s interval and 3 missed beats.
    public init(intervalMilliseconds: Int64 = 1000, liveness: Int64 = 3) {
        self.intervalMilliseconds = max(1, intervalMilliseconds)
        self.liveness = max(1, liveness)
    }

    /// How long a peer may stay silent, in milliseconds.
    public var expiryMilliseconds: Int64 { intervalMilliseconds * liveness }
}

/// Frames of the broker's HEARTBEAT to a worker.
public enum WorkerHeartbeat {
    /// Frame 4 of the HEARTBEAT that answers a worker's DISCONNECT (after the two limit frames):
    /// the broker sent every REQUEST for the worker before it, and sends none after.
    public static let drainAcknowledged: [UInt8] = [0x01]
}
