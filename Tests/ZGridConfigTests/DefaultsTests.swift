import Testing
import ZGridConfig

@Suite("Defaults")
struct DefaultsTests {
    @Test("an empty file yields the defaults")
    func emptyFile() throws {
        let config = try ClusterConfig.parse("")
        #expect(config == ClusterConfig())
        #expect(config.pools.isEmpty)
        let broker = config.broker
        #expect(broker.bind == ["tcp://127.0.0.1:5555"])
        #expect(broker.connect == "tcp://127.0.0.1:5555")
        #expect(broker.heartbeatIntervalMs == 1000)
        #expect(broker.liveness == 3)
        #expect(broker.defaultTimeoutMs == 30000)
        #expect(broker.unknownFunctionGraceMs == 5000)
        #expect(broker.maxMessageBytes == 16_777_216)
        #expect(broker.maxFrames == 64)
        #expect(broker.logLevel == "info")
    }

    @Test("comments only, or an empty [broker], yield the defaults")
    func commentsAndEmptyBroker() throws {
        #expect(try ClusterConfig.parse("# nothing here\n\n   # still nothing\n") == ClusterConfig())
        #expect(try ClusterConfig.parse("[broker]\n") == ClusterConfig())
    }

    @Test("missing [broker] with pools keeps broker defaults")
    func poolOnly() throws {
        let config = try ClusterConfig.parse(minimalPool)
        #expect(config.broker == BrokerSettings())
        #expect(config.pools == [PoolSettings(name: "p", functions: ["echo"])])
    }

    @Test("pool defaults")
    func poolDefaults() throws {
        let pool = try #require(try ClusterConfig.parse(minimalPool).pools.first)
        #expect(pool.processes == 1)
        #expect(pool.concurrency == 8)
        #expect(pool.shards == nil)
        #expect(pool.seed == 42)
    }

    @Test(
        "connect defaults to the first bind endpoint with a wildcard host replaced",
        arguments: [
            ("tcp://*:6000", "tcp://127.0.0.1:6000"),
            ("tcp://0.0.0.0:7000", "tcp://127.0.0.1:7000"),
            ("tcp://10.1.2.3:5555", "tcp://10.1.2.3:5555"),
            ("ipc:///tmp/zgrid.sock", "ipc:///tmp/zgrid.sock"),
            ("inproc://grid", "inproc://grid"),
        ]
    )
    func derivedConnect(bind: String, connect: String) throws {
        #expect(BrokerSettings(bind: [bind, "tcp://127.0.0.1:9999"]).connect == connect)
        let config = try ClusterConfig.parse("[broker]\nbind = [\"\(bind)\", \"tcp://127.0.0.1:9999\"]\n")
        #expect(config.broker.connect == connect)
    }

    @Test("an explicit connect is kept")
    func explicitConnect() throws {
        let config = try ClusterConfig.parse("[broker]\nbind = [\"tcp://*:5555\"]\nconnect = \"tcp://grid.example:5555\"\n")
        #expect(config.broker.bind == ["tcp://*:5555"])
        #expect(config.broker.connect == "tcp://grid.example:5555")
    }
}
