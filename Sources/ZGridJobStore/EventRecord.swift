/// One entry of the broker's event log: something that happened to a job or to the worker pool.
///
/// `seq` is the entry's place in the log: it rises by one for every event the broker records and is
/// never reused, across restarts too.
public struct EventRecord: Sendable, Equatable {
    /// The place in the log (1, 2, 3, …); 0 until the broker's event hub numbers it.
    public var seq: Int64
    /// When it happened, wall-clock milliseconds since 1970.
    public var at: Int64
    /// What happened: `queued`, `started`, `succeeded`, `worker_joined`, … (see `GridEventKind`).
    public var kind: String
    /// The job it is about, if any.
    public var job: Int64?
    /// The function of the job, or the function a pool event is about.
    public var function: String?
    /// The job's tags.
    public var tags: [String]
    /// The worker involved (hexadecimal id), if any.
    public var worker: String?
    /// The job's attempt number, if it matters.
    public var attempt: Int?
    /// Progress, 0 to 1.
    public var fraction: Double?
    /// Free text: a progress message or a note.
    public var message: String?
    /// The error of a failed attempt.
    public var error: String?
    /// The result of a succeeded job, when small enough to carry.
    public var result: [UInt8]?
    /// The size of the result in bytes (also when `result` is left out for being large).
    public var resultSize: Int?

    /// Creates an event; `seq` stays 0 until the broker numbers it.
    public init(
        seq: Int64 = 0, at: Int64, kind: String, job: Int64? = nil, function: String? = nil, tags: [String] = [], worker: String? = nil,
        attempt: Int? = nil, fraction: Double? = nil, message: String? = nil, error: String? = nil, result: [UInt8]? = nil,
        resultSize: Int? = nil
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
    }
}
