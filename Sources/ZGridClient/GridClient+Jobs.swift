import Foundation
import ZGridProtocol

/// A background job's status, as the broker reports it.
public typealias JobStatus = JobInfo

/// How a background job runs.
public struct JobOptions: Sendable, Equatable {
    /// 0 (lowest) to 9.
    public var priority: Int
    /// Run no earlier than this long after submitting (not negative; no later than the end of year 9999).
    public var delay: Duration?
    /// Run no earlier than this wall-clock time (overrides `delay`; no later than the end of year 9999).
    public var runAt: Date?
    /// Attempts in all before the job is dead-lettered.
    public var maxAttempts: Int
    /// The base of the exponential retry backoff (with jitter).
    public var backoff: Duration
    /// The time limit of one attempt; nil = the broker's default.
    public var timeLimit: Duration?
    /// How long the result is kept after the job finished (at least 1 s, whole seconds); nil = the broker's default.
    public var resultTTL: Duration?
    /// Coalescing: while an unfinished job has this key, submitting another returns its id.
    public var uniqueKey: String?
    /// Superseding: a later job with the same key cancels this one while it is still queued.
    public var replaceKey: String?
    /// Fairness (a user, a tenant): queued jobs of one priority take turns by key.
    public var fairnessKey: String?
    /// Batching: jobs of a batch-capable function with the same key may run as one batch.
    public var batchKey: String?
    /// Load shedding may park the job as deferred while the broker is overloaded (for
    /// low-priority work that can wait); a sweep queues it again when the load falls.
    public var sheddable: Bool
    /// Up to 16 tags, each 1 to 64 characters without commas.
    public var tags: [String]

    /// Creates options; the defaults run the job as soon as possible, up to 3 attempts, 1 s backoff base.
    public init(
        priority: Int = 0, delay: Duration? = nil, runAt: Date? = nil, maxAttempts: Int = 3, backoff: Duration = .seconds(1),
        timeLimit: Duration? = nil, resultTTL: Duration? = nil, uniqueKey: String? = nil, tags: [String] = [],
        replaceKey: String? = nil, fairnessKey: String? = nil, batchKey: String? = nil, sheddable: Bool = false
    ) {
        self.replaceKey = replaceKey
        self.fairnessKey = fairnessKey
        self.batchKey = batchKey
        self.sheddable = sheddable
        self.priority = priority
        self.delay = delay
        self.runAt = runAt
        self.maxAttempts = maxAttempts
        self.backoff = backoff
        self.timeLimit = timeLimit
        self.resultTTL = resultTTL
        self.uniqueKey = uniqueKey
        self.tags = tags
    }
}

extension GridClient {
    /// The time limit for job commands that do not wait.
    static let jobCommandTimeout: Int64 = 30_000

    /// How much longer than a job WAIT's own wait the client waits for its answer: the broker
    /// answers when the wait is over, from memory or after reading the job from its store.
    static let jobWaitAnswerSlack: Int64 = 5_000

    /// Queues a durable background job and returns its id once it is committed to disk.
    public func submit(_ function: String, _ payload: [UInt8] = [], options: JobOptions = JobOptions()) async throws(GridError) -> UInt64 {
        let frames = try Self.submitFrames(function, payload, options: options, originTag: originTag)
        try checkOpen()
        let deadline = ContinuousClock.now + .milliseconds(Self.jobCommandTimeout)
        let reply = try await retryingBusy(until: deadline) { () async throws(GridError) -> [UInt8] in
            try await self.request(.enqueue, frames, timeoutMilliseconds: Self.jobCommandTimeout)
        }
        guard reply.count == 8 else { throw .internal("ACCEPTED without a job id") }
        return reply.withUnsafeBytes { $0.readBigEndianUInt64() }
    }

    /// Checks `function` and `options` as ``submit(_:_:options:)`` does, without sending anything
    /// (for a tool that checks a whole file of jobs before it submits the first): throws
    /// ``GridError/invalidArgument(_:)`` saying what is wrong. A delay is checked against the time
    /// now.
    public static func checkSubmit(_ function: String, options: JobOptions) throws(GridError) {
        _ = try submitFrames(function, [], options: options, originTag: "client:check")
    }

    /// The frames of a SUBMIT of `function` with `payload` and `options`, tagged with `originTag`;
    /// throws ``GridError/invalidArgument(_:)`` when any of them is out of range.
    private static func submitFrames(
        _ function: String, _ payload: [UInt8], options: JobOptions, originTag: String
    ) throws(GridError) -> [[UInt8]] {
        try check(function, priority: options.priority)
        guard (1...Int(UInt16.max)).contains(options.maxAttempts) else { throw .invalidArgument("maxAttempts must be from 1 to 65535") }
        let tags = options.tags.contains(originTag) ? options.tags : options.tags + [originTag]
        guard JobTags.isValid(tags) else {
            throw .invalidArgument(
                "tags: at most \(JobTags.maxCount - 1) (one slot is the client's origin tag), each 1 to \(JobTags.maxLength) characters without commas"
            )
        }
        let maxMilliseconds = Int64(UInt32.max)
        guard (0...maxMilliseconds).contains(milliseconds(options.backoff)) else {
            throw .invalidArgument("backoff \(options.backoff) is outside 0 ... 49 days")
        }
        if let limit = options.timeLimit, !(1...maxMilliseconds).contains(milliseconds(limit)) {
            throw .invalidArgument("timeLimit \(limit) is outside 1 ms ... 49 days")
        }
        // Whole seconds on the wire, where 0 stands for the broker's default: below 1 s the job
        // would keep its result for the default (a day) instead of not at all.
        if let ttl = options.resultTTL, !(1000...maxMilliseconds * 1000).contains(milliseconds(ttl)) {
            throw .invalidArgument("resultTTL \(ttl) is outside 1 s ... 136 years (nil keeps the broker's default)")
        }
        let keys = JobKeys(unique: options.uniqueKey, replace: options.replaceKey, fairness: options.fairnessKey, batch: options.batchKey)
        guard keys.isValid else { throw .invalidArgument("uniqueKey, replaceKey, fairnessKey and batchKey must be 1 to 255 bytes") }
        var runAt: Int64 = 0
        if let date = options.runAt {
            guard let at = wallMilliseconds(date) else {
                throw .invalidArgument("runAt (\(date.timeIntervalSince1970) s since 1970) is not a time before the end of year 9999")
            }
            runAt = at
        } else if let delay = options.delay {
            // A negative delay is a mistake (a sign error, a clock difference), not a way to run
            // sooner: nothing runs before its submit.
            guard delay >= .zero else { throw .invalidArgument("delay \(delay) is negative: give no delay to run the job now") }
            let (at, overflow) = (wallMilliseconds(Date()) ?? 0).addingReportingOverflow(milliseconds(delay))
            guard !overflow, at <= latestRunAt else { throw .invalidArgument("delay \(delay) puts the job past the end of year 9999") }
            runAt = max(0, at)
        }
        var spec = JobSpec(
            priority: UInt8(options.priority), maxAttempts: UInt16(options.maxAttempts),
            backoffMilliseconds: UInt32(clamping: milliseconds(options.backoff)),
            timeLimitMilliseconds: UInt32(clamping: options.timeLimit.map(milliseconds) ?? 0),
            resultTTLSeconds: UInt32(clamping: (options.resultTTL.map(milliseconds) ?? 0) / 1000), runAt: runAt)
        spec.isSheddable = options.sheddable
        return [Array(function.utf8), spec.encoded, keys.encoded, Array(JobTags.encode(tags).utf8), payload]
    }

    /// The job's current status.
    public func status(job id: UInt64) async throws(GridError) -> JobStatus {
        try await jobCommand(.status, id, wait: 0)
    }

    /// Waits until the job has finished and returns its result; throws ``GridError/jobFailed(id:state:lastError:)``
    /// when it was dead-lettered or cancelled, ``GridError/timeout(_:)`` when it has not finished in time.
    public func result(job id: UInt64, timeout: Duration = .seconds(30)) async throws(GridError) -> [UInt8] {
        let wait = Self.milliseconds(timeout)
        let status = try await jobCommand(.wait, id, wait: UInt32(clamping: wait))
        switch status.state {
        case "succeeded": return Array(status.result ?? Data())
        case "dead", "failed", "cancelled": throw .jobFailed(id: id, state: status.state, lastError: status.lastError)
        default: throw .timeout("job \(id) is still \(status.state)")
        }
    }

    /// Cancels the job: a queued job is removed, a running one has its handler cancelled. Returns its status.
    @discardableResult
    public func cancel(job id: UInt64) async throws(GridError) -> JobStatus {
        try await jobCommand(.cancel, id, wait: 0)
    }

    /// Queues a dead, failed or cancelled job again with fresh attempts, holding its unique and
    /// replace keys again. Returns its status. A job in another state, or one whose replace key
    /// another unfinished job holds, is left as it is, and the status returned is its record as it is.
    /// Admitted like a submit: while its function's `max_queued_jobs` (or `max_queue_wait_ms`) is
    /// reached, the broker answers BUSY and the job stays as it is; the retry is sent again after
    /// the retry-after time, at most ``busyRetries`` times, then throws ``GridError/busy(_:retryAfter:)``.
    @discardableResult
    public func retry(job id: UInt64) async throws(GridError) -> JobStatus {
        let deadline = ContinuousClock.now + .milliseconds(Self.jobCommandTimeout)
        return try await retryingBusy(until: deadline) { () async throws(GridError) -> JobStatus in
            try await self.jobCommand(.retry, id, wait: 0)
        }
    }

    /// The jobs matching `query` (at most `query.limit`, default 100), by id. A query with
    /// `finishedBefore` (PURGE only) throws ``GridError/invalidArgument(_:)``, as does an invalid tag.
    public func jobs(_ query: JobQuery = JobQuery()) async throws(GridError) -> [JobStatus] {
        try await jobsCommand(.list, query).jobs
    }

    /// Deletes finished jobs matching `query` (of its states, function and tag, finished before
    /// `query.finishedBefore`, default now); returns how many. A query with `limit` or `afterID`
    /// (LIST only) throws ``GridError/invalidArgument(_:)``, as does an invalid tag.
    public func purge(_ query: JobQuery = JobQuery()) async throws(GridError) -> Int {
        try await jobsCommand(.purge, query).purged ?? 0
    }

    private func jobCommand(_ verb: JobVerb, _ id: UInt64, wait: UInt32) async throws(GridError) -> JobStatus {
        let frames: [[UInt8]] = [[verb.rawValue], .bigEndian(id), .bigEndian(wait)]
        // STATUS and WAIT only read: safe to send again to a restarted broker (the job id is durable).
        let timeout = verb == .wait ? Int64(wait) + Self.jobWaitAnswerSlack : Self.jobCommandTimeout
        let answer = try await decode(
            request(.job, frames, timeoutMilliseconds: timeout, resendable: verb == .status || verb == .wait))
        guard let status = answer.jobs.first else { throw .noSuchJob(id) }
        return status
    }

    private func jobsCommand(_ verb: JobsVerb, _ query: JobQuery) async throws(GridError) -> JobAnswer {
        // Refused here as the broker would refuse it, without a round trip; a tag no job can
        // carry would match nothing (or, at an older broker, jobs without tags).
        if let refusal = query.refusal(for: verb) { throw .invalidArgument(refusal) }
        if let tag = query.tag, !JobTags.isValid([tag]) {
            throw .invalidArgument("tag '\(tag)': a tag is 1 to \(JobTags.maxLength) characters without commas")
        }
        let filter: Data
        do { filter = try JSONEncoder().encode(query) } catch { throw .coding("cannot encode the job filter: \(error)") }
        let frames = [[verb.rawValue], Array(filter)]
        return try decode(await request(.jobs, frames, timeoutMilliseconds: Self.jobCommandTimeout, resendable: verb == .list))
    }

    private func decode(_ bytes: [UInt8]) throws(GridError) -> JobAnswer {
        do { return try JSONDecoder().decode(JobAnswer.self, from: Data(bytes)) } catch {
            throw .coding("cannot decode the broker's job answer: \(error)")
        }
    }

    /// The latest run-at time a job may ask for: the end of year 9999, in milliseconds since 1970.
    static let latestRunAt: Int64 = 253_402_300_799_999

    /// `date` in milliseconds since 1970 (0 for earlier dates); nil when it is not a number or past
    /// ``latestRunAt``.
    static func wallMilliseconds(_ date: Date) -> Int64? {
        let milliseconds = (date.timeIntervalSince1970 * 1000).rounded(.down)
        guard milliseconds.isFinite, milliseconds <= Double(latestRunAt) else { return nil }
        return Int64(max(0, milliseconds))
    }

    /// `duration` in whole milliseconds (truncated), clamped to the range of `Int64`.
    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return Int64(clamping: Int128(seconds) * 1000 + Int128(attoseconds / 1_000_000_000_000_000))
    }
}
