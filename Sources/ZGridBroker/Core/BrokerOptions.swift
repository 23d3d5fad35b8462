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

    /// Creates options; the defaults suit a local cluster.
    public init(
        heartbeat: HeartbeatSettings = .init(),
        defaultTimeoutMilliseconds: Int64 = 30_000,
        unknownFunctionGraceMilliseconds: Int64 = 5_000,
        maxQueuedPerFunction: Int = 100_000,
        maxAttempts: Int = 2
    ) {
        self.heartbeat = heartbeat
        self.defaultTimeoutMilliseconds = defaultTimeoutMilliseconds
        self.unknownFunctionGraceMilliseconds = unknownFunctionGraceMilliseconds
        self.maxQueuedPerFunction = maxQueuedPerFunction
        self.maxAttempts = max(1, maxAttempts)
    }
}
