/// A set of shard indices out of a total, as written on the wire and in cluster.conf:
/// `"0-3/16"` or `"0,2,5-7/16"`.
public struct ShardSpec: Sendable, Hashable, CustomStringConvertible {
    /// The shard indices held: sorted, unique, each below ``total``.
    public let indices: [Int]
    /// The total number of shards, 1...4096.
    public let total: Int

    /// The largest accepted ``total``.
    public static let maxTotal = 4096

    /// Creates a spec from indices already sorted, unique and below `total`.
    public init(sortedIndices: [Int], total: Int) {
        indices = sortedIndices
        self.total = total
    }

    /// Parses `"0-3/16"` or `"0,2,5-7/16"` (whitespace ignored), saying what is wrong when it fails.
    public static func parse(_ text: String) -> Result<ShardSpec, ShardSpecError> {
        let compact = text.filter { !$0.isWhitespace }
        let halves = compact.split(separator: "/", omittingEmptySubsequences: false)
        guard halves.count == 2 else {
            return .failure(ShardSpecError(halves.count < 2 ? "missing \"/total\"" : "more than one \"/\""))
        }
        guard let total = number(halves[1]) else {
            return .failure(ShardSpecError("the total \(String(reflecting: String(halves[1]))) is not a whole number"))
        }
        guard (1...maxTotal).contains(total) else { return .failure(ShardSpecError("the total must be from 1 to \(maxTotal)")) }
        var indices: [Int] = []
        for item in halves[0].split(separator: ",", omittingEmptySubsequences: false) {
            guard !item.isEmpty else { return .failure(ShardSpecError("an index is missing")) }
            let bounds = item.split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count <= 2, let low = number(bounds[0]), let high = bounds.count == 2 ? number(bounds[1]) : low else {
                return .failure(ShardSpecError("\(String(reflecting: String(item))) is neither an index nor a range like 5-7"))
            }
            guard low <= high else { return .failure(ShardSpecError("the range \(item) runs backwards")) }
            guard high < total else { return .failure(ShardSpecError("index \(high) is not below the total \(total)")) }
            indices.append(contentsOf: low...high)
        }
        return .success(ShardSpec(sortedIndices: Array(Set(indices)).sorted(), total: total))
    }

    /// A non-negative decimal number of at most 9 digits, or `nil`.
    private static func number(_ text: Substring) -> Int? {
        guard (1...9).contains(text.utf8.count), text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return Int(text)
    }

    /// The canonical compact form: runs as `a-b`, single indices as `a`, commas, then `/total`.
    public var description: String {
        var parts: [String] = []
        var start = 0
        while start < indices.count {
            var end = start
            while end + 1 < indices.count, indices[end + 1] == indices[end] + 1 { end += 1 }
            parts.append(start == end ? "\(indices[start])" : "\(indices[start])-\(indices[end])")
            start = end + 1
        }
        return parts.joined(separator: ",") + "/\(total)"
    }
}

/// Why a shard set's text did not parse.
public struct ShardSpecError: Error, Sendable, Equatable {
    /// What is wrong, such as `"index 16 is not below the total 16"`.
    public let reason: String

    init(_ reason: String) { self.reason = reason }
}
