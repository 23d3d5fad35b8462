/// One durable job, as the store keeps it: one row of the `jobs` table.
///
/// Times are wall-clock milliseconds since 1970. The store does not validate fields: the broker does.
public struct JobRecord: Sendable, Equatable {
    /// The job's id, assigned by the broker (never by SQLite); the primary key.
    public var id: Int64
    /// The function that runs the job.
    public var function: String
    /// The job's input.
    public var payload: [UInt8]
    /// Where the job is in its life.
    public var state: JobState
    /// 0 (lowest) to 9.
    public var priority: Int
    /// Attempts started so far.
    public var attempts: Int
    /// Attempts in all before the job is dead-lettered.
    public var maxAttempts: Int
    /// The base of the exponential retry backoff.
    public var backoffMilliseconds: Int64
    /// The time limit of one attempt; 0 = the broker's default.
    public var timeLimitMilliseconds: Int64
    /// How long the result is kept after the job finished; 0 = the broker's default.
    public var resultTTLMilliseconds: Int64
    /// The key that makes the job unique among unfinished jobs (indexed; uniqueness is the broker's job).
    public var uniqueKey: String?
    /// The job's tags; stored comma-joined in one column, so a tag must be non-empty and contain no comma.
    public var tags: [String]
    /// Not before this time.
    public var runAt: Int64
    /// When the job was submitted.
    public var createdAt: Int64
    /// When the job last changed.
    public var updatedAt: Int64
    /// When its last attempt started.
    public var startedAt: Int64?
    /// When it finished.
    public var finishedAt: Int64?
    /// The worker running it, or that ran its last attempt.
    public var worker: String?
    /// The error of its last failed attempt.
    public var lastError: String?
    /// The result of a succeeded job.
    public var result: [UInt8]?
    /// The fairness key (a user, a tenant): queued jobs of one priority take turns by key.
    public var fairnessKey: String?
    /// Jobs of a batch-capable function with the same batch key may run as one batch.
    public var batchKey: String?
    /// A later job with the same replace key cancels this one while it is queued.
    public var replaceKey: String?
    /// Whether load shedding may park this job as deferred under overload.
    public var sheddable: Bool = false

    /// Creates a record; the defaults describe a job just submitted: queued, runnable at `createdAt`,
    /// priority 0, 3 attempts, 1 s backoff base, broker-default time limit and result TTL.
    public init(
        id: Int64, function: String, payload: [UInt8], state: JobState = .queued, priority: Int = 0, attempts: Int = 0,
        maxAttempts: Int = 3, backoffMilliseconds: Int64 = 1000, timeLimitMilliseconds: Int64 = 0,
        resultTTLMilliseconds: Int64 = 0, uniqueKey: String? = nil, tags: [String] = [], runAt: Int64? = nil,
        createdAt: Int64, updatedAt: Int64? = nil, startedAt: Int64? = nil, finishedAt: Int64? = nil,
        worker: String? = nil, lastError: String? = nil, result: [UInt8]? = nil
    ) {
        self.id = id
        self.function = function
        self.payload = payload
        self.state = state
        self.priority = priority
        self.attempts = attempts
        self.maxAttempts = maxAttempts
        self.backoffMilliseconds = backoffMilliseconds
        self.timeLimitMilliseconds = timeLimitMilliseconds
        self.resultTTLMilliseconds = resultTTLMilliseconds
        self.uniqueKey = uniqueKey
        self.tags = tags
        self.runAt = runAt ?? createdAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.worker = worker
        self.lastError = lastError
        self.result = result
    }
}
