import ArgumentParser
import Foundation
import ServiceLifecycle
import ZGridConfig
import ZGridProtocol
import ZGridWorker

/// `zgrid worker`: serves the built-in functions until SIGINT, SIGTERM or SIGHUP. The first signal
/// stops it gracefully (running calls finish, for up to `--drain-timeout-ms`); a second one, while
/// it stops, or SIGQUIT forces it out (running calls are given up and fail as shutting down). Exits
/// with status ``stuckExitCode`` when every slot is held by a handler that ignores cancellation,
/// so that a supervisor (`zgrid up`, systemd…) restarts it.
struct WorkerNodeCommand: AsyncParsableCommand, StopSignalHandling {
    /// The exit status of a worker whose slots are all held by stuck handlers.
    static let stuckExitCode: Int32 = 3
    /// The exit status of a worker that a forced stop could not end within ``forcedExitSeconds``
    /// (its I/O thread is held by a handler).
    static let forcedExitCode: Int32 = 1
    /// How long a forced stop may take before the process exits regardless. It usually takes a few
    /// milliseconds; the margin is for a loaded machine (a sanitizer build took just over 1 s).
    static let forcedExitSeconds = 3.0

    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run a worker node serving built-in functions: \(Builtins.names.joined(separator: ", ")).")

    @OptionGroup var common: CommonOptions

    @Option(name: .long, help: "The broker endpoint; defaults to [broker] connect.")
    var connect: String?

    @Option(name: .long, help: "A built-in function to serve (repeatable); default: all of them.")
    var function: [String] = []

    @Option(name: .long, help: "How many calls run at once.")
    var concurrency: Int = 8

    @Option(
        name: .long,
        help: "Shards held, such as 0-3/16, making search and echo sharded (default: the whole corpus, not sharded); only with one of them."
    )
    var shards: String?

    /// Read unconditionally, so that a negative seed (valid, as in a pool's `seed`) is not taken
    /// for an option: `--seed -7` as well as `--seed=-7`.
    @Option(name: .long, parsing: .unconditional, help: "Seed of the generated search corpus (any integer).")
    var seed: Int = 42

    @Option(
        name: .long,
        help:
            "Where handlers run: auto (echo and noop inline on the I/O thread, sleep there as a task, the rest concurrently), concurrent or io-thread."
    )
    var execution: String = "auto"

    @Option(
        name: .long, parsing: .unconditional,
        help: ArgumentHelp(
            "How long a cancelled handler may keep running before it counts as stuck, in milliseconds (at least 1).",
            discussion: "When every slot is held by a stuck handler, the worker exits with status 3 to be restarted."))
    var stuckGraceMs: Int64 = 5_000

    @Option(
        name: .long, parsing: .unconditional,
        help: ArgumentHelp(
            "How long a graceful stop waits for running calls before it forces them out, in milliseconds.",
            discussion:
                "Calls still running then fail as shutting down, as after a second signal; 0 forces them out at once. "
                + "zgrid up sets it past its shutdown_grace_ms."))
    var drainTimeoutMs: Int64 = 30_000

    /// Set by `zgrid up`: the worker stops when this process is no longer its parent.
    @Option(name: .long, help: .hidden)
    var supervisorPid: Int32?

    /// Checks the options before anything starts, so that a bad one is reported with this
    /// command's usage.
    func validate() throws {
        // An endpoint libzmq refuses would otherwise have the worker retry its connection forever.
        if let connect, let problem = Endpoint.problem(with: connect, binding: false) {
            throw ValidationError("bad --connect: \(problem)")
        }
        for name in function where !Builtins.names.contains(name) {
            throw ValidationError("unknown built-in function '\(name)': expected one of \(Builtins.names.joined(separator: ", "))")
        }
        // The most a worker announces: more would silently run as that many.
        guard (1...BrokerInbound.maxConcurrency).contains(concurrency) else {
            throw ValidationError("--concurrency must be from 1 to \(BrokerInbound.maxConcurrency), got \(concurrency)")
        }
        // 0 would count a handler as stuck the moment it is cancelled, before it could end: the
        // first time-out would take a slot for good, and with one slot stop the worker.
        guard stuckGraceMs >= 1 else {
            throw ValidationError(
                "--stuck-grace-ms must be 1 or more, got \(stuckGraceMs): a cancelled handler needs time to end before it counts as stuck")
        }
        guard drainTimeoutMs >= 0 else {
            throw ValidationError("--drain-timeout-ms must be 0 or more (0 forces running calls out at once)")
        }
        _ = try executionMode()
        if let shards, case .failure(let error) = ShardSpec.parse(shards) {
            throw ValidationError(
                "bad --shards '\(shards)': \(error.reason); expected indices out of a total of at most \(ShardSpec.maxTotal), "
                    + "such as 0-3/16 or 0,2,5-7/16")
        }
        // As a pool's `shards`: given to functions that are not sharded, they would do nothing.
        if shards != nil && !function.isEmpty && !function.contains(where: Builtins.sharded.contains) {
            throw ValidationError(
                "--shards is only for a worker serving a sharded function (\(Builtins.sharded.joined(separator: " or "))), "
                    + "got --function \(function.joined(separator: ", ")), which would ignore it")
        }
    }

    /// Where `--execution` runs the built-ins: nil for each one's own default.
    private func executionMode() throws -> HandlerExecution? {
        switch execution {
        case "auto": nil
        case "concurrent": .concurrent
        case "io-thread": .ioThread
        default: throw ValidationError("bad --execution '\(execution)': expected auto, concurrent or io-thread")
        }
    }

    func run() async throws {
        LineBufferedOutput.enable()
        let config = try common.loadConfig()
        let logger = try common.bootstrapLogging(config, label: "zgrid.worker")
        // A built-in named twice is served once (a Worker refuses a name registered twice).
        var seen = Set<String>()
        let names = (function.isEmpty ? Builtins.names : function).filter { seen.insert($0).inserted }
        let shardSet = shards.flatMap(ShardSet.parse)
        config.security.warnIfExposed(config.security.workerKeyFile, logger: logger)
        let worker = Worker(
            broker: connect ?? config.broker.connect, concurrency: concurrency,
            heartbeat: config.broker.heartbeat,
            drainTimeoutMilliseconds: drainTimeoutMs, stuckGraceMilliseconds: stuckGraceMs,
            security: try config.security.workerPeer(), logger: logger
        )
        Builtins.register(names, on: worker, shards: shardSet, seed: UInt64(truncatingIfNeeded: seed), execution: try executionMode())
        let service = WorkerService(worker: worker, supervisor: supervisorPid, logger: logger)
        // The worker ends on its own when its supervisor is gone: that is a clean stop too.
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: service, successTerminationBehavior: .gracefullyShutdownGroup)], logger: logger))
        StopSignals.stopGracefully(
            group, logger: logger, first: "stopping gracefully, letting running calls finish; send it again to force the worker out"
        ) { name in
            logger.warning("\(name): forcing the worker out, giving up its running calls")
            worker.stop(force: true)
            DispatchQueue.global().asyncAfter(deadline: .now() + Self.forcedExitSeconds) {
                logger.critical("the forced stop did not end within \(Self.forcedExitSeconds) s; exiting now")
                Foundation.exit(Self.forcedExitCode)
            }
        }
        do {
            try await group.run()
        } catch WorkerError.allSlotsStuck(let count) {
            logger.critical(
                "all \(count) slots are held by handlers that ignore cancellation; exiting with status \(Self.stuckExitCode) to be restarted"
            )
            throw ExitCode(Self.stuckExitCode)
        }
    }
}
