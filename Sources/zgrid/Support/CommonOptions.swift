import ArgumentParser
import Foundation
import Logging
import ZGridConfig

/// Options every subcommand shares: the config file and the log level.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: "The cluster configuration file (TOML). Defaults to ./cluster.conf when it exists.")
    var config: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error or critical (overrides the config file).")
    var logLevel: String?

    /// Refuses an unknown `--log-level` before the command runs, so that the refusal shows the
    /// command's own usage (thrown from `run()`, it would show the root command's).
    func validate() throws {
        if let logLevel, Logger.Level(rawValue: logLevel.lowercased()) == nil { throw Self.unknownLevel(logLevel) }
    }

    /// The refusal of the log level `name`.
    private static func unknownLevel(_ name: String) -> ValidationError {
        ValidationError("unknown log level '\(name)': expected trace, debug, info, notice, warning, error or critical")
    }

    /// The configuration: the named file, ./cluster.conf when present, or the defaults. With
    /// `poolFunctions`, its `[[pool]]` tables may name only those functions.
    func loadConfig(poolFunctions: PoolFunctionLimit? = nil) throws -> ClusterConfig {
        guard let configFile else { return ClusterConfig() }
        return try ClusterConfig.load(path: configFile, poolFunctions: poolFunctions)
    }

    /// The configuration file in use: the named one, or ./cluster.conf when present.
    var configFile: String? {
        config ?? (FileManager.default.fileExists(atPath: "cluster.conf") ? "cluster.conf" : nil)
    }

    /// Sets up logging to standard error at the chosen level and returns a logger.
    func bootstrapLogging(_ config: ClusterConfig, label: String, defaultLevel: String? = nil) throws -> Logger {
        let name = (logLevel ?? defaultLevel ?? config.broker.logLevel).lowercased()
        guard let level = Logger.Level(rawValue: name) else { throw Self.unknownLevel(name) }
        LoggingBootstrap.once(level: level)
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }
}

/// Makes `LoggingSystem.bootstrap` run at most once per process.
enum LoggingBootstrap {
    nonisolated(unsafe) private static var done = false

    static func once(level: Logger.Level) {
        guard !done else { return }
        done = true
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
