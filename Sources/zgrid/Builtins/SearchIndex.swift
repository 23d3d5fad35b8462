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
    /// Words drawn per document (a word drawn twice counts once).
    static let wordsPerDocument = 12
    /// The 64-bit words of one document's bitmap: one bit per word of ``vocabulary``.
    static let bitmapWords = (vocabulary.count + 63) / 64

    /// One shard: its documents as bitmaps of the vocabulary words they contain.
    ///
    /// Flat bitmaps, not a `Set` per document: the largest corpus a worker can hold (4096 shards,
    /// 4 million documents of 32 bytes) takes 125 MiB and a few seconds in a debug build, where as
    /// many sets took close to 1 GiB and most of a minute before the worker could even connect.
    struct Shard: Sendable {
        let index: Int
        /// ``SearchIndex/bitmapWords`` words per document, document after document.
        private let bitmaps: [UInt64]

        /// Shard `index` of the corpus made from `seed`.
        init(index: Int, seed: UInt64) {
            self.index = index
            var generator = SplitMix64(seed: seed ^ (UInt64(index) &* 0x1000_0000_01B3))
            let stride = SearchIndex.bitmapWords
            let vocabularySize = UInt64(SearchIndex.vocabulary.count)
            bitmaps = [UInt64](unsafeUninitializedCapacity: SearchIndex.documentsPerShard * stride) { buffer, count in
                buffer.initialize(repeating: 0)
                for document in 0..<SearchIndex.documentsPerShard {
                    for _ in 0..<SearchIndex.wordsPerDocument {
                        let word = Int(generator.next() % vocabularySize)
                        buffer[document * stride + word >> 6] |= 1 << UInt64(word & 63)
                    }
                }
                count = buffer.count
            }
        }

        /// Calls `body` with the number of each document, in order, that contains every word of
        /// `wanted` (a bitmap as the documents' own).
        func forEachDocument(containing wanted: [UInt64], _ body: (Int) -> Void) {
            let stride = SearchIndex.bitmapWords
            bitmaps.withUnsafeBufferPointer { bitmaps in
                wanted.withUnsafeBufferPointer { wanted in
                    for document in 0..<SearchIndex.documentsPerShard {
                        let base = document * stride
                        var matches = true
                        for word in 0..<stride where bitmaps[base + word] & wanted[word] != wanted[word] {
                            matches = false
                            break
                        }
                        if matches { body(document) }
                    }
                }
            }
        }
    }

    /// The shards held.
    let shards: [Shard]
    /// How many shards the corpus has in all.
    let total: Int

    init(shards held: ShardSet, seed: UInt64) {
        total = held.total
        shards = held.indices.map { Shard(index: $0, seed: seed) }
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
        var wanted = [UInt64](repeating: 0, count: Self.bitmapWords)
        for word in words {
            guard let position = Self.vocabulary.firstIndex(of: word) else { return result }
            wanted[position >> 6] |= 1 << UInt64(position & 63)
        }
        for shard in searched {
            shard.forEachDocument(containing: wanted) { number in
                result.hits += 1
                if result.top.count < 10 { result.top.append("\(shard.index):\(number)") }
            }
        }
        return result
    }
}
