extension ShardSet {
    /// Splits the shards over `processes` worker processes, giving each a contiguous block.
    ///
    /// Used when a pool has several processes and a shard set: process `i` gets the `i`-th block.
    /// Block sizes differ by at most one, the larger blocks first (16 shards over 3 processes:
    /// `0-5`, `6-10`, `11-15`). If there are more processes than shards, shards repeat round-robin
    /// as replicas so that every process holds one (2 shards over 3 processes: `0`, `1`, `0`).
    /// Every returned set keeps this set's ``total``.
    /// - Parameter processes: The number of processes; an empty array is returned if it is below 1.
    /// - Returns: One shard set per process.
    public func split(into processes: Int) -> [ShardSet] {
        guard processes > 0, !indices.isEmpty else { return [] }
        let count = indices.count
        if processes >= count {
            return (0..<processes).map { ShardSet(checkedIndices: [indices[$0 % count]], total: total) }
        }
        let base = count / processes
        let larger = count % processes
        var result: [ShardSet] = []
        result.reserveCapacity(processes)
        var start = 0
        for process in 0..<processes {
            let size = base + (process < larger ? 1 : 0)
            result.append(ShardSet(checkedIndices: Array(indices[start..<(start + size)]), total: total))
            start += size
        }
        return result
    }
}
