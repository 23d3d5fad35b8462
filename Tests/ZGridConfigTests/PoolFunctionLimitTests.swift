import Testing
import ZGridConfig

@Suite("Pool functions limited by the program that runs the pools")
struct PoolFunctionLimitTests {
    let limit = PoolFunctionLimit(names: ["echo", "hash"], kind: "the built-in functions", reason: "only these run here")

    @Test("a pool function outside the limit names the file, the line, the element and what was expected")
    func outsideTheLimit() throws {
        let text = """
            [[pool]]
            name = "p"
            functions = ["echo", "nosuch"]
            """
        let error = try #require(
            #expect(throws: ConfigError.self) { try ClusterConfig.parse(text, file: "pool.conf", poolFunctions: limit) })
        #expect(
            error.description
                == "pool.conf:3: pool[0].functions[1]: expected one of the built-in functions echo, hash, got \"nosuch\" (only these run here)"
        )
    }

    @Test("functions within the limit, or any valid name without one, are accepted")
    func withinTheLimit() throws {
        let text = minimalPool + "[[pool]]\nname = \"q\"\nfunctions = [\"hash\"]\n"
        #expect(try ClusterConfig.parse(text, poolFunctions: limit).pools.map(\.functions) == [["echo"], ["hash"]])
        #expect(try ClusterConfig.parse("[[pool]]\nname = \"p\"\nfunctions = [\"resize\"]\n").pools[0].functions == ["resize"])
    }

    @Test("shards in a pool serving no sharded function name the line and what was expected; with one they are taken")
    func shardsWithoutShardedFunction() throws {
        let sharding = PoolFunctionLimit(names: ["echo", "hash", "search"], kind: "the built-in functions", sharded: ["search", "echo"])
        let text = "[[pool]]\nname = \"p\"\nfunctions = [\"hash\"]\nshards = \"0-3/4\"\n"
        let error = try #require(
            #expect(throws: ConfigError.self) { try ClusterConfig.parse(text, file: "pool.conf", poolFunctions: sharding) })
        #expect(
            error.description
                == "pool.conf:4: pool[0].shards: expected shards only in a pool serving a sharded function (search or echo), "
                + "got them for hash, which would ignore them")
        let served = "[[pool]]\nname = \"p\"\nfunctions = [\"hash\", \"search\"]\nshards = \"0-3/4\"\n"
        #expect(try ClusterConfig.parse(served, poolFunctions: sharding).pools[0].shards?.description == "0-3/4")
        // Without a limit naming the sharded functions, any pool may hold shards.
        #expect(try ClusterConfig.parse(text, poolFunctions: limit).pools[0].shards != nil)
    }

    /// A `[[pool]]` table serving `functions`, with `shards` when given.
    private func pool(_ name: String, _ functions: String, shards: String? = nil) -> String {
        "[[pool]]\nname = \"\(name)\"\nfunctions = [\(functions)]\n" + (shards.map { "shards = \"\($0)\"\n" } ?? "")
    }

    @Test("pools holding a sharded function with other shard totals, or with and without shards, name the line and the other pool")
    func shardTotalsDisagree() throws {
        let sharding = PoolFunctionLimit(names: ["echo", "hash", "search"], kind: "the built-in functions", sharded: ["search", "echo"])
        func error(_ text: String) throws -> String {
            try #require(#expect(throws: ConfigError.self) { try ClusterConfig.parse(text, file: "pool.conf", poolFunctions: sharding) })
                .description
        }
        let rule =
            ": every pool serving a sharded function must hold shards of one total, or none (the broker refuses workers announcing "
            + "another total, and a function served both whole and in shards answers a call from either)"
        #expect(
            try error(pool("a", "\"search\"", shards: "0-7/16") + pool("b", "\"search\"", shards: "0-3/8"))
                == "pool.conf:8: pool[1].shards: expected shards out of 16 for \"search\", as pool[0] (\"a\") on line 4 holds it, "
                + "got shards out of 8" + rule)
        #expect(
            try error(pool("a", "\"search\"", shards: "0-7/16") + pool("b", "\"hash\", \"search\""))
                == "pool.conf:7: pool[1].functions[1]: expected shards out of 16 for \"search\", as pool[0] (\"a\") on line 4 holds it, "
                + "got no shards (the whole corpus)" + rule)
        #expect(
            try error(pool("a", "\"echo\"") + pool("b", "\"echo\", \"search\"", shards: "0-3/4"))
                == "pool.conf:7: pool[1].shards: expected no shards (the whole corpus) for \"echo\", as pool[0] (\"a\") on line 3 holds it, "
                + "got shards out of 4" + rule)
        // One total (replicas or parts of one partition), no shards at all, or a function the shards leave alone: taken.
        let agreeing = [
            pool("a", "\"search\"", shards: "0-7/16") + pool("b", "\"search\", \"echo\"", shards: "4-15/16"),
            pool("a", "\"search\"") + pool("b", "\"search\"") + pool("c", "\"echo\"", shards: "0/2"),
            pool("a", "\"hash\", \"search\"", shards: "0-3/4") + pool("b", "\"hash\""),
        ]
        for text in agreeing { #expect(throws: Never.self) { try ClusterConfig.parse(text, poolFunctions: sharding) } }
        // Without a limit (a program reading the file without running its pools), nothing is checked.
        #expect(throws: Never.self) { try ClusterConfig.parse(pool("a", "\"search\"", shards: "0/2") + pool("b", "\"search\"")) }
    }

    @Test(
        "pools serving a seeded function with other seeds name the seed's line and the other pool; one seed, or other functions, are taken")
    func seedsDisagree() throws {
        let seeding = PoolFunctionLimit(names: ["echo", "search"], kind: "the built-in functions", seeded: ["search"])
        let text = pool("a", "\"search\"") + "seed = 7\n" + pool("b", "\"echo\", \"search\"") + "seed = -1\n"
        let error = try #require(
            #expect(throws: ConfigError.self) { try ClusterConfig.parse(text, file: "pool.conf", poolFunctions: seeding) })
        #expect(
            error.description
                == "pool.conf:8: pool[1].seed: expected seed 7 for \"search\", as pool[0] (\"a\") on line 4 has (42 when not given), got -1: "
                + "every pool serving it must generate the same data, or a call's answer depends on the worker it reaches")
        // The default seed counts as given: 42 against 42 is taken, and so are other seeds for unseeded functions.
        let agreeing = [
            pool("a", "\"search\"") + pool("b", "\"search\"") + "seed = 42\n",
            pool("a", "\"echo\"") + "seed = 1\n" + pool("b", "\"echo\"") + "seed = 2\n",
        ]
        for text in agreeing { #expect(throws: Never.self) { try ClusterConfig.parse(text, poolFunctions: seeding) } }
    }
}
