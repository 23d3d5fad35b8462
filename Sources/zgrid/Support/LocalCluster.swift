import Foundation
import Logging
import ZGridBroker
import ZGridConfig

/// A broker in this process plus the configured worker pools as supervised child processes.
struct LocalCluster {
    let broker: BrokerServer
    let supervisor: Supervisor
    let connect: String
    let expectedWorkers: Int
    /// How long a graceful stop lets the workers' running calls finish before it forces them out,
    /// in seconds: the cluster's `shutdown_grace_ms`.
    let shutdownGrace: TimeInterval

    /// The functions a pool may name: `zgrid worker` serves only the built-ins, and a pool naming
    /// another function would crash-loop. Pass it to ``CommonOptions/loadConfig(poolFunctions:)``.
    static let poolFunctions = PoolFunctionLimit(
        names: Builtins.names, kind: "the built-in functions",
        reason: "'zgrid up' runs built-in workers only; run your own workers with the ZGridWorker library",
        sharded: Builtins.sharded, seeded: Builtins.seeded)

    /// Starts the broker and the pools of `config`, read with ``poolFunctions``.
    static func start(_ config: ClusterConfig, configPath: String?, logLevel: String, logger: Logger) throws -> LocalCluster {
        let configFile = configPath ?? "cluster.conf"
        try config.security.checkBrokerPublicKey(configFile: configFile)
        try config.jobs.checkStore(configFile: configFile)
        if !config.pools.isEmpty {
            try config.broker.checkPoolsCanConnect(configFile: configFile)
            try config.security.checkPoolWorkerKeys(configFile: configFile)
        }
        let broker = try BrokerServer.start(try BrokerConfiguration(config), of: config, logger: logger)
        var children: [Supervisor.Child] = []
        for pool in config.pools {
            let shardSets = pool.shards?.split(into: pool.processes)
            for process in 0..<pool.processes {
                // `--seed=N`: one argument, whatever the sign of the seed.
                var arguments = [
                    "worker", "--connect", config.broker.connect, "--concurrency", "\(pool.concurrency)", "--seed=\(pool.seed)",
                ]
                arguments += ["--log-level", logLevel, "--supervisor-pid", "\(getpid())"]
                // The supervisor forces the workers out at the end of the grace: they must not force
                // out their running calls on their own before that.
                arguments += ["--drain-timeout-ms", "\(config.broker.shutdownGraceMs + Int(Supervisor.forcedKillDelay * 1000))"]
                if let configPath { arguments += ["--config=\(configPath)"] }
                for function in pool.functions { arguments += ["--function", function] }
                if let shardSets { arguments += ["--shards", shardSets[process].description] }
                children.append(Supervisor.Child(name: "\(pool.name)-\(process)", arguments: arguments))
            }
        }
        let supervisor = Supervisor(children: children, logger: logger)
        try supervisor.start()
        return LocalCluster(
            broker: broker, supervisor: supervisor, connect: config.broker.connect, expectedWorkers: children.count,
            shutdownGrace: TimeInterval(config.broker.shutdownGraceMs) / 1000)
    }

    /// Waits until every configured worker has registered, up to `timeout` seconds.
    func waitForWorkers(timeout: Double = 30) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while broker.status.workers < expectedWorkers {
            if Date() > deadline { return false }
            usleep(20_000)
        }
        return true
    }

    /// How long after start ``reportUnregisteredWorkers(logger:)`` looks, in seconds: long enough
    /// for worker processes to start on a loaded machine, short enough for a new user to still be
    /// watching.
    static let registrationCheckDelay: Double = 10

    /// Logs a warning when, ``registrationCheckDelay`` seconds after start and unless the cluster
    /// is stopping by then, fewer workers have registered with the broker than were started:
    /// those that never reach it (a `connect` endpoint where no broker listens, a crash loop)
    /// otherwise only show as warnings of their own among the log lines.
    func reportUnregisteredWorkers(logger: Logger) async {
        try? await Task.sleep(for: .seconds(Self.registrationCheckDelay))
        let registered = broker.status.workers
        guard registered < expectedWorkers, !Task.isCancelled, !supervisor.isStopping else { return }
        let seconds = Int(Self.registrationCheckDelay)
        logger.warning(
            "only \(registered) of \(expectedWorkers) worker processes have registered with the broker \(seconds) s after start; they connect to \(connect) (see their log lines above)"
        )
    }

    /// Stops the workers, then the broker. New calls are refused (SHUTTING_DOWN) from the start,
    /// so that none waits for a worker that is leaving; calls in flight finish on their workers
    /// within ``shutdownGrace``, then the workers are forced out.
    func stop() {
        broker.refuseNewWork()
        supervisor.stop(grace: shutdownGrace)
        broker.stop()
    }
}
