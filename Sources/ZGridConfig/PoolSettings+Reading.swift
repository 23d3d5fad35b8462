extension PoolSettings {
    /// Reads and validates one `[[pool]]` table; with `limit`, its functions must be among those.
    init(reading reader: TableReader, limit: PoolFunctionLimit? = nil) throws(ConfigError) {
        try reader.rejectUnknownKeys(known: Self.knownKeys)

        let names = "a non-empty pool name string"
        guard let name = try reader.string("name", expected: names) else { throw reader.missing("name", expected: names) }
        guard !name.allSatisfy(\.isWhitespace) else {
            throw reader.error("name", "expected \(names), got \(String(reflecting: name))")
        }

        let functionList = "a non-empty array of function name strings such as [\"echo\", \"hash\"]"
        guard let functions = try reader.stringArray("functions", expected: functionList) else {
            throw reader.missing("functions", expected: functionList)
        }
        guard !functions.isEmpty else {
            throw reader.error("functions", "expected \(functionList), got an empty array")
        }
        var seen: Set<String> = []
        for (index, function) in functions.enumerated() {
            if let problem = FunctionName.problem(with: function) {
                throw reader.error("functions", element: index, problem)
            }
            if let problem = limit?.problem(with: function) {
                throw reader.error("functions", element: index, problem)
            }
            guard seen.insert(function).inserted else {
                throw reader.error("functions", element: index, "expected each function once, got \(String(reflecting: function)) twice")
            }
        }

        var shards: ShardSet?
        if let text = try reader.string("shards", expected: "a shard set string such as \"0-3/16\"") {
            do {
                shards = try ShardSet.parseReportingErrors(text)
            } catch {
                throw reader.error("shards", error.message)
            }
            if let problem = limit?.shardsProblem(functions: functions) { throw reader.error("shards", problem) }
        }

        self.init(
            name: name,
            functions: functions,
            processes: try reader.int("processes", default: 1, in: 1...256),
            concurrency: try reader.int("concurrency", default: 8, in: 1...10_000),
            shards: shards,
            seed: try reader.int("seed", default: 42)
        )
    }
}
