extension PoolFunctionLimit {
    /// A sharded function that a pool holds otherwise than an earlier pool does: with shards of
    /// another total, with shards where the earlier one has none, or with none where it has some.
    struct ShardConflict {
        /// The function.
        var function: String
        /// Its position in the later pool's `functions`.
        var element: Int
        /// The index of the earlier pool.
        var earlier: Int
        /// The shard total of the function in the earlier pool, and in the later one; `nil` when
        /// that pool serves it without shards (the whole corpus).
        var earlierTotal: Int?
        var total: Int?
    }

    /// Whether a pool's `shards` make `function` sharded.
    func isSharded(_ function: String) -> Bool { sharded?.contains(function) ?? true }

    /// The first function of `pool` that is sharded otherwise in one of `earlier`, if any. Every
    /// worker of a sharded function must announce one total (the broker refuses the others), and a
    /// function served both whole and in shards answers a call from either, with other results.
    func shardConflict(of pool: PoolSettings, with earlier: [PoolSettings]) -> ShardConflict? {
        func total(of function: String, in pool: PoolSettings) -> Int? { isSharded(function) ? pool.shards?.total : nil }
        for (element, function) in pool.functions.enumerated() {
            let mine = total(of: function, in: pool)
            for (index, other) in earlier.enumerated() where other.functions.contains(function) {
                let theirs = total(of: function, in: other)
                if theirs != mine {
                    return ShardConflict(function: function, element: element, earlier: index, earlierTotal: theirs, total: mine)
                }
            }
        }
        return nil
    }
}

extension ConfigDecoder {
    /// The error for `conflict` in the pool read by `reader`, naming its `shards` (or, without
    /// them, its function) and the line of the earlier pool.
    static func shardConflictError(
        _ conflict: PoolFunctionLimit.ShardConflict, _ reader: TableReader, pools: [PoolSettings], locator: KeyLocator
    )
        -> ConfigError
    {
        func held(_ total: Int?) -> String { total.map { "shards out of \($0)" } ?? "no shards (the whole corpus)" }
        let earlier = TableLocation.pool(conflict.earlier)
        let key = conflict.earlierTotal == nil ? "functions" : "shards"
        let line = locator.line(for: earlier.path + [key]).map { " on line \($0)" } ?? ""
        let message =
            "expected \(held(conflict.earlierTotal)) for \(String(reflecting: conflict.function)), as \(earlier.display) "
            + "(\(String(reflecting: pools[conflict.earlier].name)))\(line) holds it, got \(held(conflict.total)): every pool serving a "
            + "sharded function must hold shards of one total, or none (the broker refuses workers announcing another total, "
            + "and a function served both whole and in shards answers a call from either)"
        return conflict.total == nil ? reader.error("functions", element: conflict.element, message) : reader.error("shards", message)
    }
}
