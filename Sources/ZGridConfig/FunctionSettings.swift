/// One `[[function]]` table: queue control for one function.
public struct FunctionSettings: Sendable, Equatable {
    /// The function (key `name`).
    public var name: String
    /// Admission: the most calls queued for it; past it calls are answered BUSY with a retry-after
    /// time (key `max_queued`).
    public var maxQueued: Int?
    /// Admission: the most jobs waiting for it, queued (in memory and on disk), delayed and deferred (key `max_queued_jobs`).
    public var maxQueuedJobs: Int?
    /// Admission: the longest expected queue wait, from the queue length and the recent drain rate,
    /// in milliseconds (key `max_queue_wait_ms`).
    public var maxQueueWaitMs: Int?
    /// The longest time limit its calls and job attempts get, in milliseconds (key `time_limit_ms`).
    public var timeLimitMs: Int?
    /// Its aging step: a waiting item gains one priority level per this many milliseconds (key `aging_ms`).
    public var agingMs: Int?
    /// Batches: at most this many jobs per batch, never more than its workers announce (key `batch_max_items`).
    public var batchMaxItems: Int?
    /// Batches: how long a batch's first job waits for more, in milliseconds (key `batch_max_wait_ms`).
    public var batchMaxWaitMs: Int?

    /// The keys of a `[[function]]` table.
    public static let knownKeys = [
        "name", "max_queued", "max_queued_jobs", "max_queue_wait_ms", "time_limit_ms", "aging_ms",
        "batch_max_items", "batch_max_wait_ms",
    ]

    /// Creates settings.
    public init(
        name: String, maxQueued: Int? = nil, maxQueuedJobs: Int? = nil, maxQueueWaitMs: Int? = nil, timeLimitMs: Int? = nil,
        agingMs: Int? = nil, batchMaxItems: Int? = nil, batchMaxWaitMs: Int? = nil
    ) {
        self.batchMaxItems = batchMaxItems
        self.batchMaxWaitMs = batchMaxWaitMs
        self.name = name
        self.maxQueued = maxQueued
        self.maxQueuedJobs = maxQueuedJobs
        self.maxQueueWaitMs = maxQueueWaitMs
        self.timeLimitMs = timeLimitMs
        self.agingMs = agingMs
    }
}

extension FunctionSettings {
    /// Reads and validates one `[[function]]` table.
    init(reading reader: TableReader) throws(ConfigError) {
        try reader.rejectUnknownKeys(known: Self.knownKeys)
        let names = "a function name string"
        guard let name = try reader.string("name", expected: names) else { throw reader.missing("name", expected: names) }
        if let problem = FunctionName.problem(with: name) { throw reader.error("name", problem) }
        self.init(
            name: name,
            maxQueued: try reader.optionalInt("max_queued", in: 0...10_000_000),
            maxQueuedJobs: try reader.optionalInt("max_queued_jobs", in: 0...1_000_000_000),
            maxQueueWaitMs: try reader.optionalInt("max_queue_wait_ms", in: 1...86_400_000),
            timeLimitMs: try reader.optionalInt("time_limit_ms", in: 1...604_800_000),
            agingMs: try reader.optionalInt("aging_ms", in: 1...86_400_000),
            batchMaxItems: try reader.optionalInt("batch_max_items", in: 1...48),
            batchMaxWaitMs: try reader.optionalInt("batch_max_wait_ms", in: 0...60_000)
        )
    }
}

/// The `[shedding]` table: when the broker counts as overloaded, and what load shedding parks then.
public struct SheddingSettings: Sendable, Equatable {
    /// Whether load shedding is on (key `enabled`).
    public var enabled: Bool
    /// Overloaded when this many calls are queued in all (key `queued_calls`).
    public var queuedCalls: Int
    /// Overloaded when a queued call has waited this long, in milliseconds (key `call_wait_ms`).
    public var callWaitMs: Int
    /// Sheddable jobs of this priority or lower are parked as deferred (key `max_priority`).
    public var maxPriority: Int
    /// Calm this long before the sweep queues deferred jobs again, in milliseconds (key `calm_ms`).
    public var calmMs: Int
    /// Deferred jobs queued again per sweep tick (key `sweep_batch`).
    public var sweepBatch: Int

    /// The keys of `[shedding]`.
    public static let knownKeys = ["enabled", "queued_calls", "call_wait_ms", "max_priority", "calm_ms", "sweep_batch"]

    /// Creates settings with the documented defaults.
    public init(
        enabled: Bool = true, queuedCalls: Int = 64, callWaitMs: Int = 250, maxPriority: Int = 3, calmMs: Int = 2000, sweepBatch: Int = 500
    ) {
        self.enabled = enabled
        self.queuedCalls = queuedCalls
        self.callWaitMs = callWaitMs
        self.maxPriority = maxPriority
        self.calmMs = calmMs
        self.sweepBatch = sweepBatch
    }
}

extension SheddingSettings {
    /// Reads and validates the `[shedding]` table.
    init(reading reader: TableReader) throws(ConfigError) {
        try reader.rejectUnknownKeys(known: Self.knownKeys)
        self.init(
            enabled: try reader.bool("enabled", expected: "true or false") ?? true,
            queuedCalls: try reader.int("queued_calls", default: 64, in: 1...10_000_000),
            callWaitMs: try reader.int("call_wait_ms", default: 250, in: 1...3_600_000),
            maxPriority: try reader.int("max_priority", default: 3, in: 0...9),
            calmMs: try reader.int("calm_ms", default: 2000, in: 0...3_600_000),
            sweepBatch: try reader.int("sweep_batch", default: 500, in: 1...1_000_000)
        )
    }
}
