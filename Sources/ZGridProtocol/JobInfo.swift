import Foundation

/// A background job as the broker reports it (the JSON of JOB-REPLY).
public struct JobInfo: Sendable, Codable, Equatable {
    /// The job's id.
    public var id: UInt64
    /// The function it runs.
    public var function: String
    /// queued, scheduled, deferred, running, succeeded, failed, dead or cancelled.
    public var state: String
    /// 0 (lowest) to 9.
    public var priority: Int
    /// Attempts started so far.
    public var attempts: Int
    /// Attempts in all before it is dead-lettered.
    public var maxAttempts: Int
    /// Its tags.
    public var tags: [String]
    /// Its unique key, if any.
    public var uniqueKey: String?
    /// Wall-clock times, in milliseconds since 1970.
    public var createdAt: Int64
    /// When it last changed.
    public var updatedAt: Int64
    /// Not before this time.
    public var runAt: Int64
    /// When its last attempt started.
    public var startedAt: Int64?
    /// When it finished.
    public var finishedAt: Int64?
    /// The worker running it, or that ran its last attempt.
    public var worker: String?
    /// The error of its last failed attempt.
    public var lastError: String?
    /// The result payload of a succeeded job (base64 in JSON).
    public var result: Data?

    /// Creates a record.
    public init(
        id: UInt64, function: String, state: String, priority: Int, attempts: Int, maxAttempts: Int, tags: [String],
        uniqueKey: String?, createdAt: Int64, updatedAt: Int64, runAt: Int64, startedAt: Int64?, finishedAt: Int64?,
        worker: String?, lastError: String?, result: Data?
    ) {
        self.id = id
        self.function = function
        self.state = state
        self.priority = priority
        self.attempts = attempts
        self.maxAttempts = maxAttempts
        self.tags = tags
        self.uniqueKey = uniqueKey
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.runAt = runAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.worker = worker
        self.lastError = lastError
        self.result = result
    }
}

/// Which jobs a JOBS command selects (its JSON filter).
public struct JobQuery: Sendable, Codable, Equatable {
    /// Only jobs in these states.
    public var states: [String]?
    /// Only jobs of this function.
    public var function: String?
    /// Only jobs carrying this tag.
    public var tag: String?
    /// At most this many (LIST only: a PURGE with it is refused).
    public var limit: Int?
    /// Only jobs with a larger id (LIST only, for paging: a PURGE with it is refused).
    public var afterID: UInt64?
    /// Only jobs finished before this wall-clock time (ms since 1970; PURGE only, default now: a
    /// LIST with it is refused).
    public var finishedBefore: Int64?

    /// Creates a filter; nil fields do not filter.
    public init(
        states: [String]? = nil, function: String? = nil, tag: String? = nil, limit: Int? = nil, afterID: UInt64? = nil,
        finishedBefore: Int64? = nil
    ) {
        self.states = states
        self.function = function
        self.tag = tag
        self.limit = limit
        self.afterID = afterID
        self.finishedBefore = finishedBefore
    }
}

/// The JSON answer to JOB and JOBS.
public struct JobAnswer: Sendable, Codable, Equatable {
    /// The jobs concerned.
    public var jobs: [JobInfo]
    /// For a purge: how many jobs were deleted.
    public var purged: Int?

    /// Creates an answer.
    public init(jobs: [JobInfo], purged: Int? = nil) {
        self.jobs = jobs
        self.purged = purged
    }
}
