import ZGridProtocol

/// Tunables of the broker's event log and subscriptions.
public struct EventHubOptions: Sendable, Equatable {
    /// Whether events are written to the job store's event log (so subscribers can resume and
    /// replay); without a job store events are only pushed live.
    public var record: Bool
    /// How long the log keeps an event, in milliseconds.
    public var retentionMilliseconds: Int64
    /// Events delivered and not yet acknowledged that a subscription may have, when it names none.
    public var defaultWindow: Int
    /// The largest window a subscription may ask for.
    public var maxWindow: Int
    /// Results up to this many bytes travel in `succeeded` events; larger ones only give their size.
    public var inlineResultBytes: Int
    /// The most subscriptions one client may hold open.
    public var maxSubscriptionsPerClient: Int
    /// A subscription whose client sent no EVENT-ACK for this long is closed, in milliseconds.
    public var livenessMilliseconds: Int64

    /// Creates options; the defaults suit a local cluster. Durations are clamped to
    /// ``ZGridProtocol/SettingBounds``.
    public init(
        record: Bool = true, retentionMilliseconds: Int64 = 3_600_000, defaultWindow: Int = 1000, maxWindow: Int = 100_000,
        inlineResultBytes: Int = 4096, maxSubscriptionsPerClient: Int = 64, livenessMilliseconds: Int64 = 10_000
    ) {
        self.record = record
        self.retentionMilliseconds = SettingBounds.milliseconds(retentionMilliseconds, atLeast: 1000)
        self.maxWindow = max(1, maxWindow)
        self.defaultWindow = min(max(1, defaultWindow), self.maxWindow)
        self.inlineResultBytes = max(0, inlineResultBytes)
        self.maxSubscriptionsPerClient = max(1, maxSubscriptionsPerClient)
        self.livenessMilliseconds = SettingBounds.milliseconds(livenessMilliseconds, atLeast: 100)
    }
}
