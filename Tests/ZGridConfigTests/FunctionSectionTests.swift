import Testing
import ZGridConfig

@Suite("Queue control in cluster.conf: [[function]], [shedding], [broker] aging_ms")
struct FunctionSectionTests {
    @Test("every key is read; missing tables give the defaults")
    func readsKeys() throws {
        let empty = try ClusterConfig.parse("")
        #expect(empty.functions.isEmpty)
        #expect(empty.shedding == SheddingSettings())
        #expect(empty.broker.agingMs == 1000)
        let config = try ClusterConfig.parse(
            """
            [broker]
            aging_ms = 250

            [shedding]
            enabled = false
            queued_calls = 10
            call_wait_ms = 40
            max_priority = 5
            calm_ms = 100
            sweep_batch = 7

            [[function]]
            name = "resize"
            max_queued = 100
            max_queued_jobs = 5000
            max_queue_wait_ms = 2000
            time_limit_ms = 30000
            aging_ms = 500

            [[function]]
            name = "mail"
            """)
        #expect(config.broker.agingMs == 250)
        #expect(
            config.shedding == SheddingSettings(enabled: false, queuedCalls: 10, callWaitMs: 40, maxPriority: 5, calmMs: 100, sweepBatch: 7)
        )
        #expect(
            config.functions == [
                FunctionSettings(
                    name: "resize", maxQueued: 100, maxQueuedJobs: 5000, maxQueueWaitMs: 2000, timeLimitMs: 30000, agingMs: 500),
                FunctionSettings(name: "mail"),
            ])
    }

    @Test("bad values name the file, line, key and what was expected")
    func errors() {
        let range = #expect(throws: ConfigError.self) {
            try ClusterConfig.parse("[[function]]\nname = \"f\"\nmax_queue_wait_ms = 0\n", file: "c.conf")
        }
        #expect(range?.file == "c.conf")
        #expect(range?.line == 3)
        #expect(range?.key == "function[0].max_queue_wait_ms")
        #expect(range?.message.contains("1 to 86400000") == true)
        let missing = #expect(throws: ConfigError.self) { try ClusterConfig.parse("[[function]]\nmax_queued = 3\n") }
        #expect(missing?.message.contains("missing required key \"name\"") == true)
        let twice = #expect(throws: ConfigError.self) {
            try ClusterConfig.parse("[[function]]\nname = \"f\"\n[[function]]\nname = \"f\"\n")
        }
        #expect(twice?.line == 4)
        #expect(twice?.message.contains("twice") == true)
        let badName = #expect(throws: ConfigError.self) { try ClusterConfig.parse("[[function]]\nname = \"no spaces\"\n") }
        #expect(badName?.key == "function[0].name")
        let priority = #expect(throws: ConfigError.self) { try ClusterConfig.parse("[shedding]\nmax_priority = 10\n") }
        #expect(priority?.key == "shedding.max_priority")
        let flag = #expect(throws: ConfigError.self) { try ClusterConfig.parse("[shedding]\nenabled = \"yes\"\n") }
        #expect(flag?.message.contains("true or false") == true)
        let typo = #expect(throws: ConfigError.self) { try ClusterConfig.parse("[[function]]\nname = \"f\"\nmax_queue = 3\n") }
        #expect(typo?.message.contains("max_queued") == true)
    }
}
