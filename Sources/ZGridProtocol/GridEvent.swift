import Foundation

/// What an event says happened.
public enum GridEventKind: String, Sendable, Codable, CaseIterable {
    /// A job was accepted and waits for a worker.
    case queued
    /// A job was accepted to run later (a run-at time or a delay).
    case scheduled
    /// A worker started an attempt of a job (`worker`, `attempt`).
    case started
    /// A handler reported progress (`fraction`, `message`); coalesced by the broker.
    case progress
    /// An attempt failed and the job will run again after a backoff (`attempt`, `error`).
    case retried
    /// The job succeeded (`result` when small, `resultSize` always).
    case succeeded
    /// The job failed for good without being dead-lettered.
    case failed
    /// The job's last attempt failed: it is dead-lettered (`attempt`, `error`).
    case dead
    /// The job was cancelled.
    case cancelled
    /// The job was parked under overload; it runs when the load falls.
    case deferred
    /// A worker registered (`worker`, `message` lists its functions).
    case workerJoined = "worker_joined"
    /// A worker left (`worker`, `message` says why).
    case workerLeft = "worker_left"
    /// No worker serves `function` any more.
    case noWorkers = "no_workers"
    /// Not in the log: the broker opened the subscription; the stream continues after `seq`.
    case subscribed
    /// Not in the log: this consumer fell behind; the events from `missedFrom` through `missedTo`
    /// (`missed` of them matched) were not delivered. Query job status to resync.
    case lagged
    /// Not in the log: the events from `missedFrom` through `missedTo` are older than the broker
    /// keeps, so a resume could not replay them.
    case gap

    /// Whether the event is about the worker pool rather than a job.
    public var isPoolEvent: Bool { self == .workerJoined || self == .workerLeft || self == .noWorkers }
    /// Whether the event ends its job.
    public var isFinal: Bool { self == .succeeded || self == .failed || self == .dead || self == .cancelled }
}

/// One event pushed by the broker on a subscription (the JSON of an EVENT frame).
public struct GridEvent: Sendable, Codable, Equatable {
    /// The event's place in the broker's event log: rises with every event, never reused. For
    /// `lagged` and `gap` the last seq they cover, for `subscribed` the seq the stream continues after.
    public var seq: UInt64
    /// When it happened, wall-clock milliseconds since 1970.
    public var at: Int64
    /// What happened.
    public var kind: GridEventKind
    /// The job, for job events.
    public var job: UInt64?
    /// The job's function, or the function of a pool event.
    public var function: String?
    /// The job's tags.
    public var tags: [String]?
    /// The worker involved.
    public var worker: String?
    /// The attempt number.
    public var attempt: Int?
    /// Progress from 0 to 1.
    public var fraction: Double?
    /// A progress message or a note.
    public var message: String?
    /// The error of a failed attempt.
    public var error: String?
    /// The result of a succeeded job when it is small (see `resultSize`; fetch large ones with the job).
    public var result: Data?
    /// The size of the result in bytes.
    public var resultSize: Int?
    /// For `lagged` and `gap`: the first seq not delivered.
    public var missedFrom: UInt64?
    /// For `lagged` and `gap`: the last seq not delivered.
    public var missedTo: UInt64?
    /// For `lagged`: how many matching events were not delivered.
    public var missed: Int?
    /// For `subscribed`: the subscription's window, the events it may have delivered and not
    /// acknowledged before it lags (the request's `window`, else the broker's default).
    public var window: Int?

    /// Creates an event.
    public init(
        seq: UInt64, at: Int64, kind: GridEventKind, job: UInt64? = nil, function: String? = nil, tags: [String]? = nil,
        worker: String? = nil, attempt: Int? = nil, fraction: Double? = nil, message: String? = nil, error: String? = nil,
        result: Data? = nil, resultSize: Int? = nil, missedFrom: UInt64? = nil, missedTo: UInt64? = nil, missed: Int? = nil,
        window: Int? = nil
    ) {
        self.seq = seq
        self.at = at
        self.kind = kind
        self.job = job
        self.function = function
        self.tags = tags
        self.worker = worker
        self.attempt = attempt
        self.fraction = fraction
        self.message = message
        self.error = error
        self.result = result
        self.resultSize = resultSize
        self.missedFrom = missedFrom
        self.missedTo = missedTo
        self.missed = missed
        self.window = window
    }
}
