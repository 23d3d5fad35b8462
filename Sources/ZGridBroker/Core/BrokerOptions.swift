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
    /// The most unfinished jobs of one client held in memory (submitted and not yet finished or
    /// moved to disk); more SUBMITs from it are answered BUSY.
    public var maxJobsPerClient: Int
    /// The most unfinished jobs kept in memory; beyond, queued jobs wait only on disk and are read
    /// back in pages as the queue drains, so a backlog of millions costs no more memory.
    public var maxResidentJobs: Int
    /// The shortest time between two progress events of one job, in milliseconds: reports in
    /// between are coalesced (the latest wins).
    public var progressIntervalMilliseconds: Int64
    /// The aging step of queued calls and jobs: a waiting item gains one priority level per this
    /// many milliseconds, so an item of priority `p` is never passed by work that arrived more than
    /// `(9 − p) × agingMilliseconds` after it.
    public var agingMilliseconds: Int64
    /// Per-function queue control, by function name.
    public var functions: [String: FunctionPolicy]
    /// Load shedding of sheddable low-priority jobs under overload.
    public var shedding: SheddingPolicy
    /// Whether the broker forgives its own stalls: when a tick comes more than twice the heartbeat
    /// interval after the one before (the broker was stopped or starved of CPU, so it heard nobody
    /// meanwhile), every worker and client gets a fresh expiry from then instead of having that
    /// time counted as its silence. On by default; tests that drive the core with far-apart ticks
    /// turn it off.
    public var forgivesOwnStalls = true
    /// The most writes the job store may have waiting to commit before job attempts stop starting:
    /// past it, queued jobs wait until commits land, so a slow disk holds back the drain instead of
    /// piling up the records (and results) of the attempts started and finished meanwhile in memory.
    public var maxStoreWritesWaiting = 4096

    /// Creates options; the defaults suit a local cluster. Durations are clamped to
    /// ``ZGridProtocol/SettingBounds`` (at least 1 ms for the time limits and the aging step, 0 for
    /// the others), so no value makes the deadlines computed from them overflow.
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
        maxJobsPerClient: Int = 1_000_000,
        progressIntervalMilliseconds: Int64 = 250,
        agingMilliseconds: Int64 = 1000,
        functions: [String: FunctionPolicy] = [:],
        shedding: SheddingPolicy = .init()
    ) {
        self.shedding = shedding
        self.agingMilliseconds = SettingBounds.milliseconds(agingMilliseconds, atLeast: 1)
        self.functions = functions
        self.progressIntervalMilliseconds = SettingBounds.milliseconds(progressIntervalMilliseconds)
        self.maxInFlightPerClient = max(1, maxInFlightPerClient)
        self.maxJobsPerClient = max(1, maxJobsPerClient)
        self.heartbeat = heartbeat
        self.defaultTimeoutMilliseconds = SettingBounds.milliseconds(defaultTimeoutMilliseconds, atLeast: 1)
        self.unknownFunctionGraceMilliseconds = SettingBounds.milliseconds(unknownFunctionGraceMilliseconds)
        self.maxQueuedPerFunction = maxQueuedPerFunction
        self.maxAttempts = max(1, maxAttempts)
        self.jobReservePercent = min(100, max(0, jobReservePercent))
        self.defaultJobTimeLimitMilliseconds = SettingBounds.milliseconds(defaultJobTimeLimitMilliseconds, atLeast: 1)
        self.defaultResultTTLMilliseconds = SettingBounds.milliseconds(defaultResultTTLMilliseconds)
        self.maxBackoffMilliseconds = SettingBounds.milliseconds(maxBackoffMilliseconds)
        self.schedules = schedules
        self.maxResidentJobs = max(100, maxResidentJobs)
    }
}

/// Queue control for one function, from its `[[function]]` table; nil fields take the broker's defaults.
public struct FunctionPolicy: Sendable, Equatable {
    /// Admission: the most calls queued for the function; past it new ones are answered BUSY with
    /// a retry-after time.
    public var maxQueued: Int?
    /// Admission: the longest expected queue wait (queued items over the recent drain rate), in
    /// milliseconds; past it new ones are answered BUSY with a retry-after time.
    public var maxQueueWaitMilliseconds: Int64?
    /// The longest time limit a call or job attempt of the function gets, in milliseconds.
    public var timeLimitMilliseconds: Int64?
    /// The aging step: a waiting item gains one priority level per this many milliseconds.
    public var agingMilliseconds: Int64?
    /// Admission for jobs: the most jobs waiting for the function: queued (in memory and on disk),
    /// scheduled (delayed, or waiting for a retry) and deferred; running ones do not count.
    public var maxQueuedJobs: Int?
    /// Batches: at most this many jobs per batch (never more than the workers announced).
    public var batchMaxItems: Int?
    /// Batches: how long a batch's first job may wait for more, in milliseconds (overrides the workers' announcement).
    public var batchMaxWaitMilliseconds: Int?

    /// Creates a policy. Durations are clamped to ``ZGridProtocol/SettingBounds`` (the time limit
    /// and the aging step to at least 1 ms, the others to at least 0).
    public init(
        maxQueued: Int? = nil, maxQueueWaitMilliseconds: Int64? = nil, timeLimitMilliseconds: Int64? = nil, agingMilliseconds: Int64? = nil,
        maxQueuedJobs: Int? = nil, batchMaxItems: Int? = nil, batchMaxWaitMilliseconds: Int? = nil
    ) {
        self.batchMaxItems = batchMaxItems
        self.batchMaxWaitMilliseconds = batchMaxWaitMilliseconds.map { min(max(0, $0), 60_000) }
        self.maxQueuedJobs = maxQueuedJobs
        self.maxQueued = maxQueued
        self.maxQueueWaitMilliseconds = SettingBounds.milliseconds(maxQueueWaitMilliseconds)
        self.timeLimitMilliseconds = SettingBounds.milliseconds(timeLimitMilliseconds, atLeast: 1)
        self.agingMilliseconds = SettingBounds.milliseconds(agingMilliseconds, atLeast: 1)
    }
}

/// When the broker is overloaded and what load shedding parks then.
public struct SheddingPolicy: Sendable, Equatable {
    /// Whether load shedding is on.
    public var enabled: Bool
    /// Overloaded when this many calls are queued in all.
    public var queuedCalls: Int
    /// Overloaded when a queued call has waited this long, in milliseconds.
    public var callWaitMilliseconds: Int64
    /// Sheddable jobs of this priority or lower are parked as deferred under overload.
    public var maxPriority: Int
    /// How long the broker must be calm before the sweep queues deferred jobs again, in milliseconds.
    public var calmMilliseconds: Int64
    /// The most deferred jobs the sweep queues again per tick.
    public var sweepBatch: Int

    /// Creates a policy; the defaults suit a local cluster. Durations are clamped to
    /// ``ZGridProtocol/SettingBounds``.
    public init(
        enabled: Bool = true, queuedCalls: Int = 64, callWaitMilliseconds: Int64 = 250, maxPriority: Int = 3,
        calmMilliseconds: Int64 = 2000, sweepBatch: Int = 500
    ) {
        self.enabled = enabled
        self.queuedCalls = max(1, queuedCalls)
        self.callWaitMilliseconds = SettingBounds.milliseconds(callWaitMilliseconds, atLeast: 1)
        self.maxPriority = min(9, max(0, maxPriority))
        self.calmMilliseconds = SettingBounds.milliseconds(calmMilliseconds)
        self.sweepBatch = max(1, sweepBatch)
    }
}
