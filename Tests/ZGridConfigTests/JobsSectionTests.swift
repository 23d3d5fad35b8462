import Testing
import ZGridConfig

@Suite("The [jobs] section")
struct JobsSectionTests {
    @Test("defaults apply when [jobs] is missing, and every key is read")
    func readsKeys() throws {
        #expect(try ClusterConfig.parse("").jobs == JobsSettings())
        let config = try ClusterConfig.parse(
            """
            [jobs]
            store = "/var/lib/zgrid/jobs.sqlite"
            reserve_percent = 50
            default_time_limit_ms = 1000
            result_ttl_s = 60
            max_backoff_ms = 5000
            """)
        #expect(
            config.jobs
                == JobsSettings(store: "/var/lib/zgrid/jobs.sqlite", reservePercent: 50, defaultTimeLimitMs: 1000, resultTTLSeconds: 60, maxBackoffMs: 5000))
    }

    @Test("a bad [jobs] key names the file, line, key and what was expected")
    func badKeys() {
        let error = #expect(throws: ConfigError.self) {
            try ClusterConfig.parse("[jobs]\nstore = \"x\"\nreserve_percent = 150\n", file: "c.conf")
        }
        #expect(error?.line == 3)
        #expect(error?.key == "jobs.reserve_percent")
        #expect(error?.message.contains("0 to 100") == true)
        let typo = #expect(throws: ConfigError.self) { try ClusterConfig.parse("[jobs]\nstor = \"x\"\n") }
        #expect(typo?.description.contains("store") == true)
    }
}
