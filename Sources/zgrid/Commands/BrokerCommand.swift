import ArgumentParser
import ZGridBroker
import ZGridConfig
import ZGridProtocol

/// `zgrid broker`: runs a broker until SIGINT or SIGTERM.
struct BrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "broker", abstract: "Run a broker.")

    @OptionGroup var common: CommonOptions

    @Option(name: .long, help: "An endpoint to bind (repeatable); overrides [broker] bind.")
    var bind: [String] = []

    func run() async throws {
        let config = try common.loadConfig()
        let logger = try common.bootstrapLogging(config, label: "zgrid.broker")
        let server = try BrokerServer.start(BrokerConfiguration(config.broker, bind: bind), logger: logger)
        print("zgrid broker listening on \(server.endpoints.joined(separator: " "))")
        let number = await ShutdownSignals.wait()
        logger.info("signal \(number): stopping")
        server.stop()
    }
}

extension BrokerConfiguration {
    /// The broker configuration for `settings`, with `bind` overriding its endpoints when not empty.
    init(_ settings: BrokerSettings, bind: [String] = []) {
        self.init(
            endpoints: bind.isEmpty ? settings.bind : bind,
            options: BrokerOptions(
                heartbeat: HeartbeatSettings(intervalMilliseconds: Int64(settings.heartbeatIntervalMs), liveness: Int64(settings.liveness)),
                defaultTimeoutMilliseconds: Int64(settings.defaultTimeoutMs),
                unknownFunctionGraceMilliseconds: Int64(settings.unknownFunctionGraceMs)),
            maxMessageBytes: settings.maxMessageBytes,
            maxFrames: settings.maxFrames)
    }
}
