/// Settings of the broker, read from the `[broker]` table of `cluster.conf`.
public struct BrokerSettings: Sendable, Equatable {
    /// ZeroMQ endpoints the broker binds (key `bind`). Each starts with `tcp://`, `ipc://` or `inproc://`.
    public var bind: [String]
    /// Endpoint clients and workers connect to (key `connect`).
    /// Defaults to the first bind endpoint with host `*` or `0.0.0.0` replaced by `127.0.0.1`.
    public var connect: String
    /// Heartbeat interval in milliseconds (key `heartbeat_ms`), 10...60000.
    public var heartbeatIntervalMs: Int
    /// Heartbeats a peer may miss before it is considered dead (key `liveness`), 1...100.
    public var liveness: Int
    /// Request timeout in milliseconds when a client gives none (key `default_timeout_ms`), 1...86_400_000.
    public var defaultTimeoutMs: Int
    /// How long, in milliseconds, a request for a function no worker serves is kept before it fails
    /// (key `unknown_function_grace_ms`), 0...3_600_000.
    public var unknownFunctionGraceMs: Int
    /// Largest frame accepted, in bytes (key `max_message_bytes`), 1024...2_147_483_647.
    public var maxMessageBytes: Int
    /// Largest number of frames accepted in one message (key `max_frames`), 16...4096 (a SUBMIT
    /// or ENQUEUE with one payload frame takes 9, the routing identity included).
    public var maxFrames: Int
    /// Log level (key `log_level`), one of ``logLevels``.
    public var logLevel: String
    /// Where the broker serves Prometheus metrics over HTTP (key `metrics`), such as
    /// `"tcp://127.0.0.1:9464"`; empty (the default) serves none.
    public var metrics: String = ""
    /// On SIGTERM, how long calls in flight may take to finish, in milliseconds (key `shutdown_grace_ms`, default 10000).
    public var shutdownGraceMs: Int = 10_000
    /// The aging step of queued calls and jobs, in milliseconds (key `aging_ms`): a waiting item
    /// gains one priority level per step.
    public var agingMs: Int = 1000

    /// Creates broker settings; every parameter has the documented default.
    /// - Parameters:
    ///   - bind: Endpoints to bind; `["tcp://127.0.0.1:5555"]` by default.
    ///   - connect: Endpoint to connect to; `nil` derives it from the first bind endpoint.
    ///   - heartbeatIntervalMs: Heartbeat interval in milliseconds; 1000 by default.
    ///   - liveness: Missed heartbeats tolerated; 3 by default.
    ///   - defaultTimeoutMs: Default request timeout in milliseconds; 30000 by default.
    ///   - unknownFunctionGraceMs: Grace period for unknown functions in milliseconds; 5000 by default.
    ///   - maxMessageBytes: Largest message in bytes; 16 MiB by default.
    ///   - maxFrames: Largest frame count per message; 64 by default.
    ///   - logLevel: Log level; `"info"` by default.
    public init(
        bind: [String] = BrokerSettings.defaultBind,
        connect: String? = nil,
        heartbeatIntervalMs: Int = 1000,
        liveness: Int = 3,
        defaultTimeoutMs: Int = 30000,
        unknownFunctionGraceMs: Int = 5000,
        maxMessageBytes: Int = 16_777_216,
        maxFrames: Int = 64,
        logLevel: String = "info"
    ) {
        self.bind = bind
        self.connect = connect ?? Endpoint.connectAddress(forBind: bind.first ?? BrokerSettings.defaultBind[0])
        self.heartbeatIntervalMs = heartbeatIntervalMs
        self.liveness = liveness
        self.defaultTimeoutMs = defaultTimeoutMs
        self.unknownFunctionGraceMs = unknownFunctionGraceMs
        self.maxMessageBytes = maxMessageBytes
        self.maxFrames = maxFrames
        self.logLevel = logLevel
    }

    /// The default value of ``bind``.
    public static let defaultBind = ["tcp://127.0.0.1:5555"]

    /// The accepted values of ``logLevel``, from most to least verbose.
    public static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// The keys accepted in the `[broker]` table.
    public static let knownKeys = [
        "bind", "connect", "heartbeat_ms", "liveness", "default_timeout_ms",
        "unknown_function_grace_ms", "max_message_bytes", "max_frames", "log_level", "metrics", "shutdown_grace_ms",
        "aging_ms",
    ]
}
