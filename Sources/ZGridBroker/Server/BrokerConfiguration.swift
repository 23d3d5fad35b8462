import ZGridProtocol

/// How to run a broker: where it listens and the limits it enforces, plus the core's options.
public struct BrokerConfiguration: Sendable {
    /// Endpoints to bind, such as `tcp://127.0.0.1:5555` or `tcp://127.0.0.1:0` for any free port.
    public var endpoints: [String]
    /// Routing options.
    public var options: BrokerOptions
    /// The largest frame accepted; a peer sending a larger one is disconnected by libzmq.
    public var maxMessageBytes: Int
    /// The most frames in one message; longer messages are dropped as malformed. The initialiser
    /// clamps it to ``frameLimits``.
    public var maxFrames: Int
    /// The SQLite file of durable background jobs; nil runs the broker without jobs (SUBMIT is
    /// refused).
    public var jobStorePath: String?
    /// Where to serve Prometheus metrics over HTTP, such as `tcp://127.0.0.1:9464`; nil serves none.
    public var metricsEndpoint: String?
    /// CURVE encryption and key-based admission on every endpoint; nil runs without.
    public var security: BrokerSecurity?
    /// On stop, how long calls in flight may take to finish (new calls are refused meanwhile), in
    /// milliseconds; clamped on assignment to 0...``ZGridProtocol/SettingBounds/maxMilliseconds``.
    public var shutdownGraceMilliseconds: Int64 = 10_000 {
        didSet { shutdownGraceMilliseconds = SettingBounds.milliseconds(shutdownGraceMilliseconds) }
    }
    /// The event log and subscriptions (events are recorded only with a job store).
    public var events = EventHubOptions()

    /// The range of ``maxFrames`` (as in the configuration file's `max_frames`). At its low end a
    /// SUBMIT or ENQUEUE with one payload frame (9 frames with the routing identity) still fits.
    public static let frameLimits = 16...4096

    /// Creates a configuration.
    public init(
        endpoints: [String], options: BrokerOptions = .init(), maxMessageBytes: Int = 16 << 20, maxFrames: Int = 64,
        jobStorePath: String? = nil, metricsEndpoint: String? = nil
    ) {
        self.metricsEndpoint = metricsEndpoint
        self.endpoints = endpoints
        self.options = options
        self.maxMessageBytes = maxMessageBytes
        self.maxFrames = min(max(Self.frameLimits.lowerBound, maxFrames), Self.frameLimits.upperBound)
        self.jobStorePath = jobStorePath
    }
}

/// Why a broker could not start.
public enum BrokerError: Error, Sendable, CustomStringConvertible {
    /// An endpoint could not be bound.
    case bindFailed(endpoint: String, reason: String)
    /// libzmq failed while setting up.
    case setupFailed(String)
    /// The CURVE settings are wrong in a way seen before starting (see ``BrokerSecurity/mistake``).
    case invalidSecurity(String)

    /// A readable explanation.
    public var description: String {
        switch self {
        case .bindFailed(let endpoint, let reason): "cannot listen on \(endpoint): \(reason)"
        case .setupFailed(let reason): "cannot start the broker: \(reason)"
        case .invalidSecurity(let reason): "cannot start the broker: \(reason)"
        }
    }
}
