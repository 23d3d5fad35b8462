import ZGridProtocol

extension BrokerCore {
    /// The routing key of one shard of a sharded function, in a layout of `total` shards: parts
    /// queued under one total are never taken by workers that announced another.
    static func shardKey(_ function: String, _ shard: Int, of total: Int) -> String { "\(function)#\(shard)/\(total)" }

    /// Why a READY announcing `functions` is refused, or nil: a sharded function's total must match
    /// the total in force while a worker (not draining) holds a shard of it, since parts of one
    /// scatter gathered from two partitions would make a wrong answer without any warning.
    func shardTotalRefusal(_ functions: [ServiceDescriptor]) -> String? {
        for descriptor in functions {
            guard let total = descriptor.shards?.total, let current = shardTotals[descriptor.name], current != total,
                shardKeys[descriptor.name]?.contains(where: { services[$0]?.workers.isEmpty == false }) == true
            else { continue }
            return "the broker refuses to register this worker: it announces '\(descriptor.name)' with \(total) shards, "
                + "but the registered workers of '\(descriptor.name)' hold \(current) (every worker of a sharded function must "
                + "announce the same total; the total changes once no worker holds a shard of the current one)"
        }
        return nil
    }

    /// Makes `total` the shard total of `function` (a READY announced it and was not refused).
    mutating func adoptShardTotal(_ function: String, _ total: Int) {
        guard shardTotals[function] != total else { return }
        shardTotals[function] = total
        shardKeys[function] = (0..<total).map { Self.shardKey(function, $0, of: total) }
    }

    /// Forgets the shard layout of each function no worker has held a shard of for the grace
    /// period, so a BROADCAST over it goes to its plain workers (or fails at once without any).
    mutating func forgetUnheldShards(now: Int64) {
        guard !shardKeys.isEmpty else { return }
        for (function, keys) in shardKeys where keys.allSatisfy({ withoutWorkersPastGrace($0, now: now) }) {
            shardKeys[function] = nil
            shardTotals[function] = nil
        }
    }
}
