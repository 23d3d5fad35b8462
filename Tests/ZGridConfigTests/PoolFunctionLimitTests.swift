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
}
