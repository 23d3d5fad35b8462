import Testing
import ZGridConfig

@Suite("Wrong types and out-of-range values")
struct TypeAndRangeErrorTests {
    @Test("a string where an integer is expected")
    func wrongType() throws {
        let text = """
            # comment
            [broker]
            liveness = 3
            heartbeat_ms = "fast"

            """
        let error = try #require(parseError(text))
        #expect(error.file == "cluster.conf")
        #expect(error.line == 4)
        #expect(error.key == "broker.heartbeat_ms")
        #expect(error.message == "expected an integer from 10 to 60000, got \"fast\"")
        #expect(error.description == "cluster.conf:4: broker.heartbeat_ms: expected an integer from 10 to 60000, got \"fast\"")
    }

    @Test("a float in the second pool names that pool")
    func floatInSecondPool() throws {
        let text =
            minimalPool + """
                [[pool]]
                name = "q"
                functions = ["echo"]
                concurrency = 2.5

                """
        let error = try #require(parseError(text, file: "conf/grid.toml"))
        #expect(error.file == "conf/grid.toml")
        #expect(error.line == 7)
        #expect(error.key == "pool[1].concurrency")
        #expect(error.message == "expected an integer from 1 to 10000, got 2.5")
    }

    @Test(
        "out-of-range integers name the range",
        arguments: [
            ("heartbeat_ms = 9", "broker.heartbeat_ms", "expected an integer from 10 to 60000, got 9"),
            ("liveness = 0", "broker.liveness", "expected an integer from 1 to 100, got 0"),
            ("default_timeout_ms = 86400001", "broker.default_timeout_ms", "expected an integer from 1 to 86400000, got 86400001"),
            ("unknown_function_grace_ms = -1", "broker.unknown_function_grace_ms", "expected an integer from 0 to 3600000, got -1"),
            ("max_message_bytes = 1023", "broker.max_message_bytes", "expected an integer from 1024 to 2147483647, got 1023"),
            ("max_frames = 4097", "broker.max_frames", "expected an integer from 16 to 4096, got 4097"),
        ]
    )
    func brokerOutOfRange(line: String, key: String, message: String) throws {
        let error = try #require(parseError("[broker]\n\(line)\n"))
        #expect(error.line == 2)
        #expect(error.key == key)
        #expect(error.message == message)
    }

    @Test(
        "out-of-range pool values",
        arguments: [
            ("processes = 0", "pool[0].processes", "expected an integer from 1 to 256, got 0"),
            ("processes = 257", "pool[0].processes", "expected an integer from 1 to 256, got 257"),
            ("concurrency = 10001", "pool[0].concurrency", "expected an integer from 1 to 10000, got 10001"),
            ("seed = \"x\"", "pool[0].seed", "expected an integer, got \"x\""),
        ]
    )
    func poolOutOfRange(line: String, key: String, message: String) throws {
        let error = try #require(parseError(minimalPool + line + "\n"))
        #expect(error.line == 4)
        #expect(error.key == key)
        #expect(error.message == message)
    }

    @Test("other wrong types are described by kind")
    func kinds() throws {
        #expect(parseError("[broker]\nliveness = true\n")?.message == "expected an integer from 1 to 100, got true")
        #expect(parseError("[broker]\nliveness = [1]\n")?.message == "expected an integer from 1 to 100, got an array")
        #expect(
            parseError("[broker]\nbind = \"tcp://127.0.0.1:5555\"\n")?.message
                == "expected a non-empty array of ZeroMQ endpoint strings such as [\"tcp://127.0.0.1:5555\"], got \"tcp://127.0.0.1:5555\""
        )
        let element = try #require(parseError("[broker]\nbind = [\"tcp://127.0.0.1:5555\", 7]\n"))
        #expect(element.key == "broker.bind[1]")
        #expect(element.line == 2)
        #expect(element.message.contains("got an array holding 7"))
        let shards = try #require(parseError(minimalPool + "shards = 16\n"))
        #expect(shards.key == "pool[0].shards")
        #expect(shards.message == "expected a shard set string such as \"0-3/16\", got 16")
    }

    @Test("log level must be a known level")
    func logLevel() throws {
        let error = try #require(parseError("[broker]\n\nlog_level = \"verbose\"\n"))
        #expect(error.line == 3)
        #expect(error.key == "broker.log_level")
        #expect(error.message == "expected one of trace, debug, info, notice, warning, error, critical, got \"verbose\"")
    }

    @Test("[broker] must be a table and pools an array of tables")
    func sectionShapes() throws {
        let broker = try #require(parseError("broker = 5\n"))
        #expect(broker.key == "broker")
        #expect(broker.line == 1)
        #expect(broker.message == "expected a [broker] table, got 5")

        let single = try #require(parseError("[broker]\n\n[pool]\nname = \"p\"\n"))
        #expect(single.key == "pool")
        #expect(single.line == 3)
        #expect(single.message.contains("write the header as [[pool]]"))
    }
}
