import Foundation

/// The configuration of a ZGrid cluster: the broker and the worker pools, as read from `cluster.conf`.
///
/// The file is TOML with one `[broker]` table and any number of `[[pool]]` tables:
///
/// ```toml
/// [broker]
/// bind = ["tcp://127.0.0.1:5555"]
///
/// [[pool]]
/// name = "demo"
/// functions = ["echo", "hash"]
/// ```
///
/// Unknown sections and keys are rejected so that typos do not go unnoticed.
public struct ClusterConfig: Sendable, Equatable {
    /// Settings of the broker (`[broker]`).
    public var broker: BrokerSettings
    /// The worker pools (`[[pool]]`), in file order.
    public var pools: [PoolSettings]
    /// The `[jobs]` table.
    public var jobs: JobsSettings
    /// The `[[schedule]]` tables, in file order.
    public var schedules: [ScheduleSettings]
    /// The `[security]` table.
    public var security: SecuritySettings
    /// The `[events]` table.
    public var events: EventsSettings
    /// The `[[function]]` tables, in file order.
    public var functions: [FunctionSettings]
    /// The `[shedding]` table.
    public var shedding: SheddingSettings

    /// Creates a configuration.
    /// - Parameters:
    ///   - broker: Settings of the broker; all defaults if omitted.
    ///   - pools: The worker pools; none by default.
    public init(
        broker: BrokerSettings = .init(), pools: [PoolSettings] = [], jobs: JobsSettings = .init(), schedules: [ScheduleSettings] = [],
        security: SecuritySettings = .init(), events: EventsSettings = .init(), functions: [FunctionSettings] = [],
        shedding: SheddingSettings = .init()
    ) {
        self.functions = functions
        self.shedding = shedding
        self.events = events
        self.security = security
        self.jobs = jobs
        self.schedules = schedules
        self.broker = broker
        self.pools = pools
    }

    /// Reads and validates a file. Relative file paths in it (the job store, key files, `ipc://`
    /// endpoints) are taken relative to the directory of `path` as given (a symbolic link's own
    /// directory), whether written or by default, so every process of a cluster finds the same
    /// files whatever directory it is started from.
    /// - Parameters:
    ///   - path: Path of the TOML configuration file.
    ///   - poolFunctions: The functions the `[[pool]]` tables may name, for a program that runs the
    ///     pools' workers itself; `nil` (the default) for any valid function name.
    /// - Throws: ``ConfigError`` if the file cannot be read, is not valid TOML, or fails validation.
    public static func load(path: String, poolFunctions: PoolFunctionLimit? = nil) throws(ConfigError) -> ClusterConfig {
        let text = try ConfigFile.read(path: path)
        var config = try parse(text, file: path, poolFunctions: poolFunctions)
        config.resolvePaths(against: (path as NSString).deletingLastPathComponent)
        return config
    }

    /// Makes the relative file paths absolute against `directory` (the working directory when empty).
    mutating func resolvePaths(against directory: String) {
        guard !directory.isEmpty, directory != "." else { return }
        func resolved(_ path: String) -> String {
            path.isEmpty || path.hasPrefix("/") ? path : (directory as NSString).appendingPathComponent(path)
        }
        // An ipc endpoint names a socket file: `ipc://grid.sock` too (not `ipc://@name`, abstract).
        func resolvedEndpoint(_ endpoint: String) -> String {
            guard endpoint.hasPrefix("ipc://") else { return endpoint }
            let path = String(endpoint.dropFirst(6))
            return path.hasPrefix("@") ? endpoint : "ipc://" + resolved(path)
        }
        broker.bind = broker.bind.map(resolvedEndpoint)
        broker.connect = resolvedEndpoint(broker.connect)
        jobs.store = resolved(jobs.store)
        security.brokerKeyFile = resolved(security.brokerKeyFile)
        security.clientKeyFile = resolved(security.clientKeyFile)
        security.workerKeyFile = resolved(security.workerKeyFile)
    }

    /// Parses and validates text; `file` is used in error messages.
    /// - Parameters:
    ///   - text: The TOML text. An empty text yields the defaults.
    ///   - file: The name reported in errors.
    ///   - poolFunctions: The functions the `[[pool]]` tables may name; `nil` (the default) for any
    ///     valid function name.
    /// - Throws: ``ConfigError`` if the text is not valid TOML or fails validation.
    public static func parse(
        _ text: String, file: String = "cluster.conf", poolFunctions: PoolFunctionLimit? = nil
    ) throws(ConfigError) -> ClusterConfig {
        try ConfigDecoder.decode(text, file: file, poolFunctions: poolFunctions)
    }
}
