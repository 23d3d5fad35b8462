import ZGridConfig

/// A search index over a corpus generated deterministically from a seed, split into shards.
///
/// Every worker that holds shard `s` of `total` with the same seed holds the same documents, so
/// replicas agree and a scatter over all shards covers the corpus exactly once.
struct SearchIndex: Sendable {
    /// The words documents are made of.
    static let vocabulary: [String] = {
        let syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pa", "do", "fe", "gu", "ha", "ji", "xo"]
        var words: [String] = []
        for first in syllables { for second in syllables { words.append(first + second) } }
        return words
    }()
    /// Documents per shard.
    static let documentsPerShard = 1000
    /// Words per document.
    static let wordsPerDocument = 12

    /// One shard: its documents as sets of word indices.
    struct Shard: Sendable {
        let index: Int
        let documents: [Set<Int>]
    }

    /// The shards held.
    let shards: [Shard]
    /// How many shards the corpus has in all.
    let total: Int

    init(shards held: ShardSet, seed: UInt64) {
        total = held.total
        shards = held.indices.map { shard in
            var generator = SplitMix64(seed: seed ^ (UInt64(shard) &* 0x1000_0000_01B3))
            let documents = (0..<Self.documentsPerShard).map { _ in
                Set((0..<Self.wordsPerDocument).map { _ in Int(generator.next() % UInt64(Self.vocabulary.count)) })
            }
            return Shard(index: shard, documents: documents)
        }
    }

    /// The result of a query over the held shards.
    struct Result: Sendable {
        /// Shards searched.
        var shards: [Int]
        /// Matching documents in all, and the first few as `shard:document`.
        var hits: Int
        var top: [String]

        /// The result as one line of JSON.
        var json: String {
            let quoted = top.map { "\"\($0)\"" }.joined(separator: ",")
            return "{\"shards\":[\(shards.map(String.init).joined(separator: ","))],\"hits\":\(hits),\"top\":[\(quoted)]}"
        }
    }

    /// Documents containing every word of `query` (unknown words match nothing), in `shard` when
    /// given, else in every shard held.
    func search(_ query: String, shard: Int? = nil) -> Result {
        let words = query.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
        let searched = shard.map { wanted in shards.filter { $0.index == wanted } } ?? shards
        var result = Result(shards: searched.map(\.index), hits: 0, top: [])
        guard !words.isEmpty else { return result }
        var wanted: [Int] = []
        for word in words {
            guard let position = Self.vocabulary.firstIndex(of: word) else { return result }
            wanted.append(position)
        }
        for shard in searched {
            for (number, document) in shard.documents.enumerated() where wanted.allSatisfy(document.contains) {
                result.hits += 1
                if result.top.count < 10 { result.top.append("\(shard.index):\(number)") }
            }
        }
        return result
    }
}
