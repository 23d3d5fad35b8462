extension PoolFunctionLimit {
    /// A function of ``seeded`` that a pool serves with another `seed` than an earlier pool does.
    struct SeedConflict {
        /// The function.
        var function: String
        /// The index of the earlier pool.
        var earlier: Int
        /// The seed of the earlier pool, and of the later one.
        var earlierSeed: Int
        var seed: Int
    }

    /// The first function of ``seeded`` in `pool` that one of `earlier` serves with another seed,
    /// if any: its workers would hold other data, and a call's answer would depend on the worker
    /// it reaches (a scatter's parts on the pools they reach).
    func seedConflict(of pool: PoolSettings, with earlier: [PoolSettings]) -> SeedConflict? {
        for function in pool.functions where seeded.contains(function) {
            if let index = earlier.firstIndex(where: { $0.functions.contains(function) && $0.seed != pool.seed }) {
                return SeedConflict(function: function, earlier: index, earlierSeed: earlier[index].seed, seed: pool.seed)
            }
        }
        return nil
    }
}

extension ConfigDecoder {
    /// The error for `conflict` in the pool read by `reader`, naming its `seed` and the line of
    /// the earlier pool's.
    static func seedConflictError(
        _ conflict: PoolFunctionLimit.SeedConflict, _ reader: TableReader, pools: [PoolSettings], locator: KeyLocator
    )
        -> ConfigError
    {
        let earlier = TableLocation.pool(conflict.earlier)
        let line = locator.line(for: earlier.path + ["seed"]).map { " on line \($0)" } ?? ""
        return reader.error(
            "seed",
            "expected seed \(conflict.earlierSeed) for \(String(reflecting: conflict.function)), as \(earlier.display) "
                + "(\(String(reflecting: pools[conflict.earlier].name)))\(line) has (42 when not given), got \(conflict.seed): every pool "
                + "serving it must generate the same data, or a call's answer depends on the worker it reaches")
    }
}
