import ZGridProtocol

/// A set of shard indices out of a total number of shards, written like `"0-3/16"` or `"0,2,5-7/16"`.
public struct ShardSet: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The shard indices held: sorted, unique, each below ``total``.
    public var indices: [Int]
    /// The total number of shards, 1...4096.
    public var total: Int

    /// The largest accepted ``total``.
    public static let maxTotal = ShardSpec.maxTotal

    /// Creates a shard set; the indices are sorted and duplicates dropped.
    /// - Parameters:
    ///   - indices: Shard indices, each in `0..<total`; at least one.
    ///   - total: Total number of shards, 1...4096.
    /// - Throws: ``ConfigError`` (with an empty `file`) if the total or an index is out of range,
    ///   or if there are no indices.
    public init(indices: [Int], total: Int) throws(ConfigError) {
        guard (1...Self.maxTotal).contains(total) else {
            throw ConfigError(file: "", message: "expected a shard total from 1 to \(Self.maxTotal), got \(total)")
        }
        guard !indices.isEmpty else {
            throw ConfigError(file: "", message: "expected at least one shard index, got none")
        }
        if let bad = indices.first(where: { !(0..<total).contains($0) }) {
            throw ConfigError(file: "", message: "expected shard indices from 0 to \(total - 1), got \(bad)")
        }
        self.init(checkedIndices: Array(Set(indices)).sorted(), total: total)
    }

    /// Creates a shard set from indices already known to be sorted, unique and in range.
    init(checkedIndices: [Int], total: Int) {
        self.indices = checkedIndices
        self.total = total
    }

    /// The canonical compact form: runs of consecutive indices as `a-b`, single indices as `a`,
    /// separated by commas, then `/total`; e.g. `"0,2,5-7/16"`.
    public var description: String {
        ShardSpec(sortedIndices: indices, total: total).description
    }
}
