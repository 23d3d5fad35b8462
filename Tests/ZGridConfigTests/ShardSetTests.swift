import Testing
import ZGridConfig

@Suite("ShardSet")
struct ShardSetTests {
    @Test("parse reads indices and total")
    func parse() throws {
        let set = try #require(ShardSet.parse("0-3/16"))
        #expect(set.indices == [0, 1, 2, 3])
        #expect(set.total == 16)
        #expect(ShardSet.parse("0,2,5-7/16")?.indices == [0, 2, 5, 6, 7])
        #expect(ShardSet.parse("4095/4096")?.indices == [4095])
    }

    @Test(
        "description renders the canonical compact form",
        arguments: [
            ("0-3/16", "0-3/16"),
            ("0,2,5-7/16", "0,2,5-7/16"),
            (" 7, 5-6 , 0 / 16 ", "0,5-7/16"),
            ("3,1,2/4", "1-3/4"),
            ("0-5,3-9,9/10", "0-9/10"),
            ("0,1/2", "0-1/2"),
            ("0/1", "0/1"),
        ]
    )
    func roundTrip(text: String, canonical: String) throws {
        let set = try #require(ShardSet.parse(text))
        #expect(set.description == canonical)
        #expect(ShardSet.parse(set.description) == set)
    }

    @Test(
        "malformed text gives nil",
        arguments: [
            "", "/16", "0-3", "0-3/0", "0-3/4097", "16/16", "3-1/16", "a/16", "0,,1/16", "-1/16",
            "0-3/16/2", "1-2-3/16", "0-/16", "1.5/16", "0-3/1e3", "0-3/9999999999",
        ]
    )
    func malformed(text: String) {
        #expect(ShardSet.parse(text) == nil)
    }

    @Test("init sorts, drops duplicates and validates")
    func initializer() throws {
        let set = try ShardSet(indices: [5, 1, 5, 3], total: 8)
        #expect(set.indices == [1, 3, 5])
        #expect(set.description == "1,3,5/8")
        #expect(throws: ConfigError.self) { try ShardSet(indices: [0], total: 0) }
        #expect(throws: ConfigError.self) { try ShardSet(indices: [0], total: 4097) }
        #expect(throws: ConfigError.self) { try ShardSet(indices: [], total: 4) }
        let error = try #require(#expect(throws: ConfigError.self) { try ShardSet(indices: [1, 4], total: 4) })
        #expect(error.message == "expected shard indices from 0 to 3, got 4")
        #expect(try ShardSet(indices: [4095], total: 4096).indices == [4095])
    }

    @Test(
        "split gives contiguous blocks, larger ones first",
        arguments: [
            ("0-15/16", 1, ["0-15/16"]),
            ("0-15/16", 2, ["0-7/16", "8-15/16"]),
            ("0-15/16", 3, ["0-5/16", "6-10/16", "11-15/16"]),
            ("0,2,5-7/16", 2, ["0,2,5/16", "6-7/16"]),
            ("0-3/4", 4, ["0/4", "1/4", "2/4", "3/4"]),
        ]
    )
    func split(text: String, processes: Int, expected: [String]) throws {
        let set = try #require(ShardSet.parse(text))
        let parts = set.split(into: processes)
        #expect(parts.map(\.description) == expected)
        #expect(parts.flatMap(\.indices) == set.indices)
    }

    @Test("split repeats shards as replicas when there are more processes than shards")
    func splitReplicas() throws {
        let set = try #require(ShardSet.parse("4-5/16"))
        #expect(set.split(into: 5).map(\.description) == ["4/16", "5/16", "4/16", "5/16", "4/16"])
        #expect(set.split(into: 5).allSatisfy { $0.total == 16 && $0.indices.count == 1 })
    }

    @Test("split into fewer than one process gives nothing")
    func splitNone() throws {
        #expect(try #require(ShardSet.parse("0-3/4")).split(into: 0).isEmpty)
    }

    @Test("shard sets are hashable")
    func hashable() throws {
        let sets: Set<ShardSet> = [try #require(ShardSet.parse("0-1/4")), try ShardSet(indices: [1, 0], total: 4)]
        #expect(sets.count == 1)
    }
}
