extension BrokerSettings {
    /// Reads and validates the `[broker]` table.
    init(reading reader: TableReader) throws(ConfigError) {
        try reader.rejectUnknownKeys(known: Self.knownKeys)

        let endpoints = "a non-empty array of ZeroMQ endpoint strings such as [\"tcp://127.0.0.1:5555\"]"
        let bind = try reader.stringArray("bind", expected: endpoints) ?? Self.defaultBind
        guard !bind.isEmpty else { throw reader.error("bind", "expected \(endpoints), got an empty array") }
        var seen: Set<String> = []
        for (index, endpoint) in bind.enumerated() {
            if let problem = Endpoint.problem(with: endpoint, binding: true) {
                throw reader.error("bind", element: index, problem)
            }
            guard seen.insert(endpoint).inserted else {
                throw reader.error("bind", element: index, "expected each endpoint once, got \(String(reflecting: endpoint)) twice")
            }
        }

        let connect: String
        if let given = try reader.string("connect", expected: "a ZeroMQ endpoint string such as \"tcp://127.0.0.1:5555\"") {
            if let problem = Endpoint.problem(with: given, binding: false) { throw reader.error("connect", problem) }
            connect = given
        } else {
            connect = Endpoint.connectAddress(forBind: bind[0])
            if Endpoint.problem(with: connect, binding: false) != nil {
                var error = reader.error(
                    "connect",
                    "expected an explicit connect endpoint: none can be derived from the first bind endpoint \(String(reflecting: bind[0]))"
                )
                error.line = reader.line(of: "bind") ?? error.line
                throw error
            }
        }

        let levels = "one of \(Self.logLevels.joined(separator: ", "))"
        let level = try reader.string("log_level", expected: levels) ?? "info"
        guard Self.logLevels.contains(level.lowercased()) else {
            throw reader.error("log_level", "expected \(levels), got \(String(reflecting: level))")
        }

        let metricsRule = "a tcp:// endpoint such as \"tcp://127.0.0.1:9464\", or \"\" for none"
        let metrics = try reader.string("metrics", expected: metricsRule) ?? ""
        if !metrics.isEmpty, let problem = Endpoint.metricsProblem(with: metrics) { throw reader.error("metrics", problem) }
        self.init(
            bind: bind,
            connect: connect,
            heartbeatIntervalMs: try reader.int("heartbeat_ms", default: 1000, in: 10...60000),
            liveness: try reader.int("liveness", default: 3, in: 1...100),
            defaultTimeoutMs: try reader.int("default_timeout_ms", default: 30000, in: 1...86_400_000),
            unknownFunctionGraceMs: try reader.int("unknown_function_grace_ms", default: 5000, in: 0...3_600_000),
            maxMessageBytes: try reader.int("max_message_bytes", default: 16_777_216, in: 1024...2_147_483_647),
            maxFrames: try reader.int("max_frames", default: 64, in: 16...4096),
            logLevel: level.lowercased()
        )
        self.metrics = metrics
        self.shutdownGraceMs = try reader.int("shutdown_grace_ms", default: 10_000, in: 0...3_600_000)
        self.agingMs = try reader.int("aging_ms", default: 1000, in: 1...86_400_000)
    }
}
