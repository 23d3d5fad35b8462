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
}
