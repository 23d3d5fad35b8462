import Foundation
import Testing
import ZGridConfig

@Suite("Valid files")
struct ValidConfigTests {
    @Test("a full file sets every field")
    func fullFile() throws {
        let text = """
            # full configuration
            [broker]
            bind = [
              "tcp://*:6000",      # public
              "ipc:///tmp/zgrid.sock",
            ]
            connect = "tcp://10.0.0.5:6000"
            heartbeat_ms = 250
            liveness = 5
            default_timeout_ms = 60_000
            unknown_function_grace_ms = 0
            max_message_bytes = 1048576
            max_frames = 128
            log_level = "debug"

            [[pool]]
            name = "search"
            functions = ["search", "search.v2", "Index_Build-1"]
            processes = 4
            concurrency = 16
            shards = "0,2,5-7/16"
            seed = -7

            [[pool]]
            name = "misc"
            functions = ["echo"]

            """
        let config = try ClusterConfig.parse(text)
        let expected = ClusterConfig(
            broker: BrokerSettings(
                bind: ["tcp://*:6000", "ipc:///tmp/zgrid.sock"],
                connect: "tcp://10.0.0.5:6000",
                heartbeatIntervalMs: 250,
                liveness: 5,
                defaultTimeoutMs: 60000,
                unknownFunctionGraceMs: 0,
                maxMessageBytes: 1_048_576,
                maxFrames: 128,
                logLevel: "debug"
            ),
            pools: [
                PoolSettings(
                    name: "search",
                    functions: ["search", "search.v2", "Index_Build-1"],
                    processes: 4,
                    concurrency: 16,
                    shards: try ShardSet(indices: [0, 2, 5, 6, 7], total: 16),
                    seed: -7
                ),
                PoolSettings(name: "misc", functions: ["echo"]),
            ]
        )
        #expect(config == expected)
    }

    @Test("range bounds are accepted")
    func rangeBounds() throws {
        let low = try ClusterConfig.parse(
            "[broker]\nheartbeat_ms = 10\nliveness = 1\ndefault_timeout_ms = 1\nmax_message_bytes = 1024\nmax_frames = 16\n"
        )
        #expect(low.broker.heartbeatIntervalMs == 10)
        #expect(low.broker.maxFrames == 16)
        let high = try ClusterConfig.parse(
            "[broker]\nheartbeat_ms = 60000\nliveness = 100\ndefault_timeout_ms = 86400000\n"
                + "unknown_function_grace_ms = 3600000\nmax_message_bytes = 2147483647\nmax_frames = 4096\n"
                + "[[pool]]\nname = \"p\"\nfunctions = [\"f\"]\nprocesses = 256\nconcurrency = 10000\n"
        )
        #expect(high.broker.maxMessageBytes == 2_147_483_647)
        #expect(high.pools[0].processes == 256)
        #expect(high.pools[0].concurrency == 10000)
    }

    @Test("dotted keys and inline tables are ordinary TOML and work too")
    func alternativeTOMLForms() throws {
        let text = """
            broker.heartbeat_ms = 500
            pool = [{ name = "a", functions = ["echo"], processes = 3 }]

            """
        let config = try ClusterConfig.parse(text)
        #expect(config.broker.heartbeatIntervalMs == 500)
        #expect(config.pools == [PoolSettings(name: "a", functions: ["echo"], processes: 3)])
    }

    @Test("log level is case-insensitive and stored in lower case")
    func logLevelCase() throws {
        #expect(try ClusterConfig.parse("[broker]\nlog_level = \"WARNING\"\n").broker.logLevel == "warning")
    }

    @Test("the example cluster.conf parses to the documented values")
    func exampleConfig() throws {
        let config = try ClusterConfig.parse(ExampleConfig.text)
        let expected = ClusterConfig(
            broker: BrokerSettings(
                bind: ["tcp://127.0.0.1:5555"],
                heartbeatIntervalMs: 1000,
                liveness: 3,
                defaultTimeoutMs: 30000
            ),
            pools: [
                PoolSettings(
                    name: "demo",
                    functions: ["echo", "sleep", "hash", "search"],
                    processes: 2,
                    concurrency: 8,
                    shards: ShardSet.parse("0-15/16"),
                    seed: 42
                )
            ],
            functions: [
                FunctionSettings(name: "hash", maxQueued: 10000, maxQueuedJobs: 1_000_000, maxQueueWaitMs: 10000, timeLimitMs: 60000)
            ]
        )
        #expect(config == expected)
        #expect(config.broker.connect == "tcp://127.0.0.1:5555")
        #expect(config.pools[0].shards?.split(into: 2).map(\.description) == ["0-7/16", "8-15/16"])
    }

    @Test("the example text is identical to the repository's cluster.conf")
    func exampleMatchesFile() throws {
        // Tests/ZGridConfigTests/<this file> -> package root
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let path = root.appendingPathComponent("cluster.conf").path
        try #require(FileManager.default.fileExists(atPath: path), "no cluster.conf at \(path)")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == ExampleConfig.text)
        var loaded = try ClusterConfig.load(path: path)
        #expect(loaded.jobs.store == root.path + "/zgrid-jobs.sqlite", "the store sits next to the file")
        loaded.jobs.store = "zgrid-jobs.sqlite"
        loaded.security = try ClusterConfig.parse(ExampleConfig.text).security
        #expect(loaded == (try ClusterConfig.parse(ExampleConfig.text)))
    }
}
