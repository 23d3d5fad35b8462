import Testing
import ZGridConfig

@Suite("The [broker] metrics endpoint")
struct MetricsSettingTests {
    @Test(
        "an endpoint the metrics could not be served on as written names the line, the key and what was expected",
        arguments: [
            // libzmq would bind port 99999 - 65536 = 34463: the metrics would be served, elsewhere.
            ("tcp://127.0.0.1:99999", "expected a fixed port from 1 to 65535 for scrapers to find, got \"tcp://127.0.0.1:99999\""),
            // A random port, which no scraper could find (the log would show the port as written).
            ("tcp://127.0.0.1:*", "expected a fixed port from 1 to 65535 for scrapers to find, got \"tcp://127.0.0.1:*\""),
            ("tcp://127.0.0.1:0", "expected a fixed port from 1 to 65535 for scrapers to find, got \"tcp://127.0.0.1:0\""),
            ("tcp://127.0.0.1", "expected a tcp endpoint like tcp://host:port, got \"tcp://127.0.0.1\""),
            ("tcp://a/b:9464", "expected an IP address, an interface or * before the port, got \"tcp://a/b:9464\""),
            (
                "http://127.0.0.1:9464",
                "expected a tcp:// endpoint such as \"tcp://127.0.0.1:9464\", or \"\" for none, got \"http://127.0.0.1:9464\""
            ),
        ]
    )
    func refused(endpoint: String, message: String) throws {
        let error = try #require(parseError("[broker]\nlog_level = \"info\"\nmetrics = \"\(endpoint)\"\n"))
        #expect(error.line == 3)
        #expect(error.key == "broker.metrics")
        #expect(error.message == message)
    }

    @Test("a fixed port on a host, on all interfaces, or none at all is taken", arguments: ["tcp://127.0.0.1:9464", "tcp://*:9464", ""])
    func accepted(endpoint: String) throws {
        let config = try ClusterConfig.parse("[broker]\nmetrics = \"\(endpoint)\"\n")
        #expect(config.broker.metrics == endpoint)
    }
}
