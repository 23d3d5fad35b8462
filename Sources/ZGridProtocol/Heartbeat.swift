/// How often peers send heartbeats and how many may be missed before a peer counts as gone.
///
/// Both values are clamped, by the initialiser and on every assignment, so that no setting can make
/// the times computed from them overflow: the interval to
/// 1...``maxIntervalMilliseconds`` (one day) and the liveness to 1...``maxLiveness``.
public struct HeartbeatSettings: Sendable, Equatable {
    /// The longest interval kept, in milliseconds (one day); a longer one is lowered to it.
    public static let maxIntervalMilliseconds: Int64 = 86_400_000
    /// The largest liveness kept; a larger one is lowered to it.
    public static let maxLiveness: Int64 = 1000

    /// The interval between heartbeats, in milliseconds, from 1 to ``maxIntervalMilliseconds``.
    public var intervalMilliseconds: Int64 {
        didSet { intervalMilliseconds = Self.interval(intervalMilliseconds) }
    }
    /// How many intervals of silence make a peer gone, from 1 to ``maxLiveness``.
    public var liveness: Int64 {
        didSet { liveness = Self.liveness(liveness) }
    }

    /// Creates settings; the defaults are a 1 s interval and 3 missed beats. Values out of range
    /// are clamped (see the type's description), never refused.
    public init(intervalMilliseconds: Int64 = 1000, liveness: Int64 = 3) {
        self.intervalMilliseconds = Self.interval(intervalMilliseconds)
        self.liveness = Self.liveness(liveness)
    }

    /// How long a peer may stay silent, in milliseconds.
    public var expiryMilliseconds: Int64 { intervalMilliseconds * liveness }

    private static func interval(_ value: Int64) -> Int64 { min(max(1, value), maxIntervalMilliseconds) }
    private static func liveness(_ value: Int64) -> Int64 { min(max(1, value), maxLiveness) }
}

/// Frames of the broker's HEARTBEAT to a worker.
public enum WorkerHeartbeat {
    /// Frame 4 of the HEARTBEAT that answers a worker's DISCONNECT (after the two limit frames):
    /// the broker sent every REQUEST for the worker before it, and sends none after.
    public static let drainAcknowledged: [UInt8] = [0x01]
    /// Frame 4 of the broker's other HEARTBEATs: the broker takes a READY that resumes an earlier
    /// session of the worker (``WorkerCapabilities/resuming``). Earlier workers ignore it.
    public static let resumes: [UInt8] = [0x02]
}
