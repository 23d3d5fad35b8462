/// The `[jobs]` table: where durable background jobs are stored and how they run by default.
public struct JobsSettings: Sendable, Equatable {
    /// The SQLite file of the job store (key `store`); an empty string runs the broker without jobs.
    public var store: String
    /// Percent of each worker's concurrency kept free of jobs for interactive calls (key `reserve_percent`).
    public var reservePercent: Int
    /// Time limit of a job attempt that names none, in milliseconds (key `default_time_limit_ms`).
    public var defaultTimeLimitMs: Int
    /// How long a finished job's result is kept by default, in seconds (key `result_ttl_s`).
    public var resultTTLSeconds: Int
    /// The longest retry backoff, in milliseconds (key `max_backoff_ms`).
    public var maxBackoffMs: Int
    /// The most unfinished jobs of one client held in memory; more submits are answered BUSY (key `max_per_client`).
    public var maxPerClient: Int = 1_000_000

    /// The keys of `[jobs]`.
    public static let knownKeys = ["store", "reserve_percent", "default_time_limit_ms", "result_ttl_s", "max_backoff_ms", "max_per_client"]

    /// Creates settings; the defaults store jobs in `zgrid-jobs.sqlite` in the working directory.
    public init(
        store: String = "zgrid-jobs.sqlite", reservePercent: Int = 25, defaultTimeLimitMs: Int = 300_000, resultTTLSeconds: Int = 86_400,
        maxBackoffMs: Int = 3_600_000
    ) {
        self.store = store
        self.reservePercent = reservePercent
        self.defaultTimeLimitMs = defaultTimeLimitMs
        self.resultTTLSeconds = resultTTLSeconds
        self.maxBackoffMs = maxBackoffMs
    }
}

extension JobsSettings {
    /// Reads and validates the `[jobs]` table.
    init(reading reader: TableReader) throws(ConfigError) {
        try reader.rejectUnknownKeys(known: Self.knownKeys)
        self.init(
            store: try reader.string("store", expected: "a file path string (\"\" turns jobs off)") ?? "zgrid-jobs.sqlite",
            reservePercent: try reader.int("reserve_percent", default: 25, in: 0...100),
            defaultTimeLimitMs: try reader.int("default_time_limit_ms", default: 300_000, in: 1...604_800_000),
            resultTTLSeconds: try reader.int("result_ttl_s", default: 86_400, in: 1...31_536_000),
            maxBackoffMs: try reader.int("max_backoff_ms", default: 3_600_000, in: 1...86_400_000)
        )
        maxPerClient = try reader.int("max_per_client", default: 1_000_000, in: 1...100_000_000)
    }
}
