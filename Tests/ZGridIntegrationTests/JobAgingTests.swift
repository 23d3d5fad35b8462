import Testing
import ZGridBroker
import ZGridClient
import ZGridWorker

extension IntegrationTests.QueueControlTests {
    @Test("queued jobs run highest priority first, and aging holds for them, also after a broker restart")
    func jobPriorityAndAgingAcrossRestart() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let options = BrokerOptions(agingMilliseconds: 50)
        // Per function, a priority-0 job, then, more than 9 aging steps later, a priority-5 and a
        // priority-9 job: the priority-0 job must not be passed by them, the other two run by priority.
        let first = try broker(options, directory)
        let client = try GridClient(broker: first.endpoints[0], heartbeat: testHeartbeat)
        for function in ["live", "restored"] { _ = try await client.submit(function, bytes("old"), options: JobOptions(priority: 0)) }
        try await Task.sleep(for: .milliseconds(700))
        for function in ["live", "restored"] {
            _ = try await client.submit(function, bytes("mid"), options: JobOptions(priority: 5))
            _ = try await client.submit(function, bytes("high"), options: JobOptions(priority: 9))
        }

        /// The order in which a worker of one slot, started now, runs the three jobs of `function`.
        func runOrder(of function: String, on broker: BrokerServer) async throws -> [String] {
            let order = RunOrder()
            let worker = try await startWorker(broker, concurrency: 1) { worker in
                worker.register(function) { request in
                    order.record(String(decoding: request.payload, as: UTF8.self))
                    return []
                }
            }
            try await waitUntil("the jobs of \(function) ran") { order.count == 3 }
            await worker.stop()
            return order.names
        }
        #expect(try await runOrder(of: "live", on: first) == ["old", "high", "mid"])
        await client.close()
        first.stop()

        // The same, for jobs the next broker reads back from the store.
        let second = try broker(options, directory)
        defer { second.stop() }
        #expect(try await runOrder(of: "restored", on: second) == ["old", "high", "mid"], "a restored job lost its age")
    }
}
