/// Settings of one worker pool, read from a `[[pool]]` table of `cluster.conf`.
public struct PoolSettings: Sendable, Equatable {
    /// Unique, non-empty name of the pool (key `name`, required).
    public var name: String
    /// Functions the pool's workers serve (key `functions`, required, non-empty).
    /// Each is 1...255 bytes of `[A-Za-z0-9._-]` and does not start with `mmi.`.
    public var functions: [String]
    /// Worker processes to run (key `processes`), 1...256.
    public var processes: Int
    /// Requests each process runs at once (key `concurrency`), 1...10_000.
    public var concurrency: Int
    /// Shards of the search corpus the pool holds (key `shards`, e.g. `"0-3/16"`), if any.
    public var shards: ShardSet?
    /// Seed of the generated search corpus (key `seed`).
    public var seed: Int

    /// Creates pool settings.
    /// - Parameters:
    ///   - name: Unique name of the pool.
    ///   - functions: Functions the workers serve.
    ///   - processes: Worker processes; 1 by default.
    ///   - concurrency: Requests per process at once; 8 by default.
    ///   - shards: Corpus shards held; none by default.
    ///   - seed: Seed of the generated search corpus; 42 by default.
    public init(
        name: String,
        functions: [String],
        processes: Int = 1,
        concurrency: Int = 8,
        shards: ShardSet? = nil,
        seed: Int = 42
    ) {
        self.name = name
        self.functions = functions
        self.processes = processes
        self.concurrency = concurrency
        self.shards = shards
        self.seed = seed
    }

    /// The keys accepted in a `[[pool]]` table.
    public static let knownKeys = ["name", "functions", "processes", "concurrency", "shards", "seed"]
}
