/// Which events of the log a read returns: those after `afterSeq` that match, ascending by seq.
///
/// An event matches when `everything` is set, or its job is in `jobs`, or one of its tags is in
/// `tags`, or its function is in `functions`, or it is a pool event and `pool` is set.
public struct EventQuery: Sendable, Equatable {
    /// Only events with a higher seq.
    public var afterSeq: Int64
    /// At most this many events.
    public var limit: Int
    /// Every event matches.
    public var everything: Bool
    /// Events of these jobs.
    public var jobs: [Int64]
    /// Events of jobs carrying one of these tags.
    public var tags: [String]
    /// Events of these functions (job and pool events).
    public var functions: [String]
    /// Pool events (a worker joined or left, a function has no workers).
    public var pool: Bool

    /// Creates a query.
    public init(
        afterSeq: Int64, limit: Int, everything: Bool = false, jobs: [Int64] = [], tags: [String] = [], functions: [String] = [],
        pool: Bool = false
    ) {
        self.afterSeq = afterSeq
        self.limit = limit
        self.everything = everything
        self.jobs = jobs
        self.tags = tags
        self.functions = functions
        self.pool = pool
    }

    /// The kinds of pool events (stored without a job).
    public static let poolKinds = ["worker_joined", "worker_left", "no_workers"]
}
