import ArgumentParser
import ServiceLifecycle
import ZGridBroker
import ZGridConfig
import ZGridProtocol

/// `zgrid broker`: runs a broker until SIGINT, SIGTERM or SIGHUP, then stops it gracefully (calls
/// in flight get up to `shutdown_grace_ms` to finish); a second signal, while it stops, ends that
/// grace at once (the calls still in flight are answered as shutting down), as SIGQUIT does.
struct BrokerCommand: AsyncParsableCommand, StopSignalHandling {
    static let configuration = CommandConfiguration(commandName: "broker", abstract: "Run a broker.")

    @OptionGroup var common: CommonOptions

    @Option(name: .long, help: "An endpoint to bind (repeatable); overrides [broker] bind.")
    var bind: [String] = []

    @Option(name: .long, help: "The job store's SQLite file; overrides [jobs] store (\"\" turns jobs off).")
    var jobStore: String?

    /// Refuses a `--bind` endpoint libzmq would refuse (or bind elsewhere than meant: a port past
    /// 65535), and a `--job-store` the store could never open, before anything starts, with this
    /// command's usage.
    func validate() throws {
        for endpoint in bind {
            if let problem = Endpoint.problem(with: endpoint, binding: true) { throw ValidationError("bad --bind: \(problem)") }
        }
        if let jobStore, !jobStore.isEmpty, let problem = JobStorePath.problem(with: jobStore) {
            throw ValidationError("bad --job-store \(String(reflecting: jobStore)): \(problem)")
        }
    }

    func run() async throws {
        LineBufferedOutput.enable()
        let config = try common.loadConfig()
        if jobStore == "", let schedule = config.schedules.first {
            // As the configuration itself may not: its schedules would never fire.
            throw ValidationError(
                "--job-store \"\" runs the broker without a job store, but [[schedule]] \"\(schedule.name)\" submits stored jobs")
        }
        let logger = try common.bootstrapLogging(config, label: "zgrid.broker")
        if let file = common.configFile { try config.security.checkBrokerPublicKey(configFile: file) }
        if jobStore == nil { try config.jobs.checkStore(configFile: common.configFile) }
        let server = try BrokerServer.start(try BrokerConfiguration(config, bind: bind, jobStore: jobStore), of: config, logger: logger)
        print("zgrid broker listening on \(server.endpoints.joined(separator: " "))")
        // A forced stop (SIGQUIT) may end the broker before the group heard of its graceful stop:
        // that is a clean stop too.
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: BrokerService(server: server), successTerminationBehavior: .gracefullyShutdownGroup)],
                logger: logger))
        StopSignals.stopGracefully(
            group, logger: logger, first: "stopping gracefully, letting calls in flight finish; send it again to stop at once"
        ) { name in
            logger.warning("\(name): stopping at once, answering the calls still in flight as shutting down")
            server.requestStop(force: true)
        }
        try await group.run()
    }
}

extension BrokerConfiguration {
    /// The broker configuration for `config`, with `bind` overriding its endpoints when not empty
    /// and `jobStore` its job store path when given.
    init(_ config: ClusterConfig, bind: [String] = [], jobStore: String? = nil) throws {
        let settings = config.broker
        let store = jobStore ?? config.jobs.store
        self.init(
            endpoints: bind.isEmpty ? settings.bind : bind,
            options: BrokerOptions(
                heartbeat: settings.heartbeat,
                defaultTimeoutMilliseconds: Int64(settings.defaultTimeoutMs),
                unknownFunctionGraceMilliseconds: Int64(settings.unknownFunctionGraceMs),
                jobReservePercent: config.jobs.reservePercent,
                defaultJobTimeLimitMilliseconds: Int64(config.jobs.defaultTimeLimitMs),
                defaultResultTTLMilliseconds: Int64(config.jobs.resultTTLSeconds) * 1000,
                maxBackoffMilliseconds: Int64(config.jobs.maxBackoffMs),
                schedules: config.schedules.map { schedule in
                    RecurringJob(
                        name: schedule.name, cron: schedule.cron, function: schedule.function, payload: Array(schedule.payload.utf8),
                        priority: schedule.priority, maxAttempts: schedule.maxAttempts,
                        catchUpMilliseconds: Int64(schedule.catchUpSeconds) * 1000, catchUp: schedule.catchUp)
                },
                progressIntervalMilliseconds: Int64(config.events.progressIntervalMs),
                agingMilliseconds: Int64(settings.agingMs),
                functions: Dictionary(
                    uniqueKeysWithValues: config.functions.map { function in
                        (
                            function.name,
                            FunctionPolicy(
                                maxQueued: function.maxQueued, maxQueueWaitMilliseconds: function.maxQueueWaitMs.map(Int64.init),
                                timeLimitMilliseconds: function.timeLimitMs.map(Int64.init),
                                agingMilliseconds: function.agingMs.map(Int64.init),
                                maxQueuedJobs: function.maxQueuedJobs, batchMaxItems: function.batchMaxItems,
                                batchMaxWaitMilliseconds: function.batchMaxWaitMs)
                        )
                    }),
                shedding: SheddingPolicy(
                    enabled: config.shedding.enabled, queuedCalls: config.shedding.queuedCalls,
                    callWaitMilliseconds: Int64(config.shedding.callWaitMs), maxPriority: config.shedding.maxPriority,
                    calmMilliseconds: Int64(config.shedding.calmMs), sweepBatch: config.shedding.sweepBatch)),
            maxMessageBytes: settings.maxMessageBytes,
            maxFrames: settings.maxFrames,
            jobStorePath: store.isEmpty ? nil : store,
            metricsEndpoint: settings.metrics.isEmpty ? nil : settings.metrics)
        shutdownGraceMilliseconds = Int64(settings.shutdownGraceMs)
        options.maxJobsPerClient = config.jobs.maxPerClient
        events = EventHubOptions(
            record: config.events.record, retentionMilliseconds: Int64(config.events.retentionSeconds) * 1000,
            defaultWindow: config.events.window,
            inlineResultBytes: config.events.inlineResultBytes, maxSubscriptionsPerClient: config.events.maxSubscriptionsPerClient,
            livenessMilliseconds: 2 * Int64(settings.heartbeatIntervalMs) * Int64(settings.liveness))
        security = try config.security.broker()
    }
}
