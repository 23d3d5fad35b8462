import ZGridProtocol

/// Tunables of the routing core.
public struct BrokerOptions: Sendable, Equatable {
    /// Heartbeat interval and liveness for workers and clients.
    public var heartbeat: HeartbeatSettings
    /// The time limit of a call that names none, in milliseconds.
    public var defaultTimeoutMilliseconds: Int64
    /// How long calls for a function wait for a worker to serve it before failing "unknown function".
    public var unknownFunctionGraceMilliseconds: Int64
    /// The most calls queued for one function; more are answered BUSY.
    public var maxQueuedPerFunction: Int
    /// How many times an idempotent call is tried in all when workers die under it.
    public var maxAttempts: Int
    /// The share of each worker's concurrency (percent, rounded up, at least one slot when the
    /// worker has two or more) that background jobs never take, so interactive calls always find room.
    public var jobReservePercent: Int
    /// The time limit of a job attempt that names none, in milliseconds.
    public var defaultJobTimeLimitMilliseconds: Int64
    /// How long a finished job's result is kept when the job names no time-to-live, in milliseconds.
    public var defaultResultTTLMilliseconds: Int64
    /// The longest retry backoff, in milliseconds.
    public var maxBackoffMilliseconds: Int64
    /// Jobs the broker submits by itself on cron schedules.
    public var schedules: [RecurringJob]
    /// The most calls and scatters one client may have in flight (queued or running); more are
    /// answered BUSY.
    public var maxInFlightPerClient: Int
    /// The most unfinished jobs kept in memory; beyond, queued jobs wait only on disk and are read
    /// back in pages as the queue drains, so a backlog of millions costs no more memory.
    public var maxResidentJobs: Int
    /// The shortest time between two progress events of one job, in milliseconds: reports in
    /// between are coalesced (the latest wins).
    public var progressIntervalMilliseconds: Int64

    /// Creates options; the defaults suit a local cluster.
    public init(
        heartbeat: HeartbeatSettings = .init(),
        defaultTimeoutMilliseconds: Int64 = 30_000,
        unknownFunctionGraceMilliseconds: Int64 = 5_000,
        maxQueuedPerFunction: Int = 100_000,
        maxAttempts: Int = 2,
        jobReservePercent: Int = 25,
        defaultJobTimeLimitMilliseconds: Int64 = 300_000,
        defaultResultTTLMilliseconds: Int64 = 86_400_000,
        maxBackoffMilliseconds: Int64 = 3_600_000,
        schedules: [RecurringJob] = [],
        maxResidentJobs: Int = 100_000,
        maxInFlightPerClient: Int = 10_000,
        progressIntervalMilliseconds: Int64 = 250
    ) {
        self.progressIntervalMilliseconds = max(0, progressIntervalMilliseconds)
        self.maxInFlightPerClient = max(1, maxInFlightPerClient)
        self.heartbeat = heartbeat
        self.defaultTimeoutMilliseconds = defaultTimeoutMilliseconds
        self.unknownFunctionGraceMilliseconds = unknownFunctionGraceMilliseconds
        self.maxQueuedPerFunction = maxQueuedPerFunction
        self.maxAttempts = max(1, maxAttempts)
        self.jobReservePercent = min(100, max(0, jobReservePercent))
        self.defaultJobTimeLimitMilliseconds = defaultJobTimeLimitMilliseconds
        self.defaultResultTTLMilliseconds = defaultResultTTLMilliseconds
        self.maxBackoffMilliseconds = maxBackoffMilliseconds
        self.schedules = schedules
        self.maxResidentJobs = max(100, maxResidentJobs)
    }
}
