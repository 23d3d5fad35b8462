import Testing
import ZGridBroker
import ZGridClient
import ZGridWorker

extension IntegrationTests.QueueControlTests {
    @Test("a key's backlog spilled to disk delays another key's single job by at most one turn, also after a restart")
    func fairnessWithSpilledBacklogAcrossRestart() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let options = BrokerOptions(maxResidentJobs: 100)
        let first = try broker(options, directory)
        let client = try GridClient(broker: first.endpoints[0], heartbeat: testHeartbeat)
        // Per function, 250 jobs of one key (most of them wait only on disk), then one of another.
        for function in ["live", "restored"] {
            try await withThrowingTaskGroup(of: UInt64.self) { group in
                for index in 0..<250 {
                    group.addTask { try await client.submit(function, bytes("big-\(index)"), options: JobOptions(fairnessKey: "big")) }
                }
                try await group.waitForAll()
            }
            _ = try await client.submit(function, bytes("small"), options: JobOptions(fairnessKey: "small"))
        }
        try await waitUntil("the backlog spilled to disk") { (first.status.jobs["queued_on_disk"] ?? 0) > 0 }

        func position(of function: String, on broker: BrokerServer) async throws -> Int {
            let order = RunOrder()
            let worker = try await startWorker(broker, concurrency: 1) { worker in
                worker.register(function) { request in
                    order.record(String(decoding: request.payload, as: UTF8.self))
                    return []
                }
            }
            try await waitUntil("small ran", seconds: 30) { order.names.contains("small") }
            await worker.stop()
            return try #require(order.names.firstIndex(of: "small"))
        }
        #expect(try await position(of: "live", on: first) <= 1)
        await client.close()
        first.stop()

        let second = try broker(options, directory)
        defer { second.stop() }
        #expect(try await position(of: "restored", on: second) <= 1, "after a restart")
    }
}
