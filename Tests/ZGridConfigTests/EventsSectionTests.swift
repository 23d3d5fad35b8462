import Testing
import ZGridConfig

@Suite("The [events] section")
struct EventsSectionTests {
    @Test("defaults apply when [events] is missing, and every key is read")
    func readsKeys() throws {
        #expect(try ClusterConfig.parse("").events == EventsSettings())
        let config = try ClusterConfig.parse(
            """
            [events]
            retention_s = 600
            window = 50
            inline_result_bytes = 0
            progress_interval_ms = 1000
            max_subscriptions_per_client = 4
            """)
        #expect(
            config.events
                == EventsSettings(
                    retentionSeconds: 600, window: 50, inlineResultBytes: 0, progressIntervalMs: 1000, maxSubscriptionsPerClient: 4))
    }

    @Test("a bad [events] key names the file, line, key and what was expected")
    func badKeys() {
        let error = #expect(throws: ConfigError.self) {
            try ClusterConfig.parse("[events]\nretention_s = 60\nwindow = 0\n", file: "c.conf")
        }
        #expect(error?.file == "c.conf")
        #expect(error?.line == 3)
        #expect(error?.key == "events.window")
        #expect(error?.message.contains("1 to 100000") == true)
        let typo = #expect(throws: ConfigError.self) { try ClusterConfig.parse("[events]\nretention = 60\n") }
        #expect(typo?.message.contains("retention_s") == true, "suggests the key meant")
        let notTable = #expect(throws: ConfigError.self) { try ClusterConfig.parse("events = 3\n") }
        #expect(notTable?.message.contains("[events] table") == true)
    }

    @Test("the repository's cluster.conf reads, [events] included")
    func repositoryConfig() throws {
        let config = try ClusterConfig.load(
            path: #filePath.replacingOccurrences(of: "Tests/ZGridConfigTests/EventsSectionTests.swift", with: "cluster.conf"))
        #expect(config.events == EventsSettings())
    }
}
