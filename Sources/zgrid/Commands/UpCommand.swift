import ArgumentParser
import Foundation
import ServiceLifecycle

/// `zgrid up`: a broker and the configured worker pools, supervised, until Ctrl-C (SIGINT) or
/// SIGTERM (or SIGHUP), which stop them gracefully; a second signal, or SIGQUIT, forces the workers
/// out.
struct UpCommand: AsyncParsableCommand, StopSignalHandling {
    static let configuration = CommandConfiguration(
        commandName: "up", abstract: "Run a local cluster: a broker and the worker pools of cluster.conf, restarting crashed workers.")

    @OptionGroup var common: CommonOptions

    func run() async throws {
        LineBufferedOutput.enable()
        let config = try common.loadConfig(poolFunctions: LocalCluster.poolFunctions)
        let logger = try common.bootstrapLogging(config, label: "zgrid.up")
        let cluster = try LocalCluster.start(
            config, configPath: common.config, logLevel: common.logLevel ?? config.broker.logLevel, logger: logger)
        print("zgrid broker listening on \(cluster.broker.endpoints.joined(separator: " ")); clients connect to \(cluster.connect)")
        print("started \(cluster.expectedWorkers) worker processes; press Ctrl-C to stop")
        // Services stop in reverse order: the workers first, then the broker. New calls are refused
        // from the first moment, so that none waits for a worker that is leaving.
        let broker = cluster.broker
        let workers = SupervisorService(supervisor: cluster.supervisor, grace: cluster.shutdownGrace) { broker.refuseNewWork() }
        let group = ServiceGroup(services: [BrokerService(server: cluster.broker), workers], logger: logger)
        let supervisor = cluster.supervisor
        StopSignals.stopGracefully(
            group, logger: logger, first: "stopping the workers gracefully, then the broker; send it again to force the workers out"
        ) { name in
            if supervisor.force() { logger.warning("\(name): forcing the workers out") }
        }
        let registration = Task { await cluster.reportUnregisteredWorkers(logger: logger) }
        try await group.run()
        registration.cancel()
        print("stopped")
    }
}
