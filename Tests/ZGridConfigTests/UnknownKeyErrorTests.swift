import Testing
import ZGridConfig

@Suite("Unknown keys and sections")
struct UnknownKeyErrorTests {
    @Test("a misspelt broker key is named, with a suggestion and the known keys")
    func brokerTypo() throws {
        let text = """
            [broker]
            bind = ["tcp://127.0.0.1:5555"]
            heartbeat = 500
            livenes = 2

            """
        let error = try #require(parseError(text))
        #expect(error.line == 3)
        #expect(error.key == "broker.heartbeat")
        #expect(error.message.hasPrefix("unknown key \"heartbeat\" (did you mean \"heartbeat_ms\"?); expected one of: "))
        #expect(error.message.hasSuffix(BrokerSettings.knownKeys.joined(separator: ", ")))
    }

    @Test("a misspelt pool key in the second pool")
    func poolTypo() throws {
        let text =
            minimalPool + """
                [[pool]]
                name = "q"
                functions = ["echo"]
                concurency = 4

                """
        let error = try #require(parseError(text))
        #expect(error.line == 7)
        #expect(error.key == "pool[1].concurency")
        #expect(error.message.contains("(did you mean \"concurrency\"?)"))
        #expect(error.message.contains("name, functions, processes, concurrency, shards, seed"))
    }

    @Test("an unrelated unknown key gets no suggestion")
    func noSuggestion() throws {
        let error = try #require(parseError(minimalPool + "colour = \"blue\"\n"))
        #expect(error.key == "pool[0].colour")
        #expect(error.message.hasPrefix("unknown key \"colour\"; expected one of: name, functions"))
    }

    @Test("a nested table inside [broker] is an unknown key at its header")
    func nestedTable() throws {
        let error = try #require(parseError("[broker]\nliveness = 3\n\n[broker.tls]\ncert = \"x\"\n"))
        #expect(error.key == "broker.tls")
        #expect(error.line == 4)
    }

    @Test("an unknown section is named with the known sections")
    func unknownSection() throws {
        let text = """
            [broker]
            liveness = 3

            [brokr]
            liveness = 4

            """
        let error = try #require(parseError(text))
        #expect(error.line == 4)
        #expect(error.key == "brokr")
        #expect(
            error.message
                == "unknown section \"brokr\" (did you mean [broker]?); expected only the sections [broker] and [events] and [[function]] and [jobs] and [[pool]] and [[schedule]] and [security] and [shedding]"
        )
    }

    @Test("an unknown array of tables and an unknown top-level key")
    func otherUnknowns() throws {
        let pools = try #require(parseError(minimalPool + "[[pools]]\nname = \"x\"\n"))
        #expect(pools.key == "pools")
        #expect(pools.line == 4)
        #expect(pools.message.contains("did you mean [[pool]]?"))

        let topLevel = try #require(parseError("verbose = true\n[broker]\n"))
        #expect(topLevel.key == "verbose")
        #expect(topLevel.line == 1)
        #expect(topLevel.message.hasPrefix("unknown top-level key \"verbose\""))
    }

    @Test("with several unknown keys the first in the file is reported")
    func firstInFileOrder() throws {
        let error = try #require(parseError("[broker]\nzzz = 1\naaa = 2\n"))
        #expect(error.key == "broker.zzz")
        #expect(error.line == 2)
    }
}
