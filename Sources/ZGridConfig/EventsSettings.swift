/// The `[events]` table: the broker's event log and event subscriptions.
public struct EventsSettings: Sendable, Equatable {
    /// Whether events are written to the job store's event log, so subscribers can resume and replay
    /// (key `record`); without it they are only pushed live.
    public var record: Bool
    /// How long the event log keeps events for resuming subscribers, in seconds (key `retention_s`).
    public var retentionSeconds: Int
    /// Events a subscription may have delivered and unacknowledged before it lags, unless it asks
    /// for another window (key `window`).
    public var window: Int
    /// Results up to this size travel inside `succeeded` events, in bytes (key `inline_result_bytes`).
    public var inlineResultBytes: Int
    /// The shortest time between two progress events of one job, in milliseconds (key `progress_interval_ms`).
    public var progressIntervalMs: Int
    /// The most subscriptions one client may hold open (key `max_subscriptions_per_client`).
    public var maxSubscriptionsPerClient: Int

    /// The keys of `[events]`.
    public static let knownKeys = [
        "record", "retention_s", "window", "inline_result_bytes", "progress_interval_ms", "max_subscriptions_per_client",
    ]

    /// Creates settings with the documented defaults.
    public init(
        retentionSeconds: Int = 3600, window: Int = 1000, inlineResultBytes: Int = 4096, progressIntervalMs: Int = 250,
        maxSubscriptionsPerClient: Int = 64, record: Bool = true
    ) {
        self.record = record
        self.retentionSeconds = retentionSeconds
        self.window = window
        self.inlineResultBytes = inlineResultBytes
        self.progressIntervalMs = progressIntervalMs
        self.maxSubscriptionsPerClient = maxSubscriptionsPerClient
    }
}

extension EventsSettings {
    /// Reads and validates the `[events]` table.
    init(reading reader: TableReader) throws(ConfigError) {
        try reader.rejectUnknownKeys(known: Self.knownKeys)
        self.init(
            retentionSeconds: try reader.int("retention_s", default: 3600, in: 1...31_536_000),
            window: try reader.int("window", default: 1000, in: 1...100_000),
            inlineResultBytes: try reader.int("inline_result_bytes", default: 4096, in: 0...1_048_576),
            progressIntervalMs: try reader.int("progress_interval_ms", default: 250, in: 0...60_000),
            maxSubscriptionsPerClient: try reader.int("max_subscriptions_per_client", default: 64, in: 1...10_000),
            record: try reader.bool("record", expected: "true or false") ?? true
        )
    }
}
