import Synchronization
import Testing
import ZGridBroker
import ZGridClient
import ZGridWorker

extension IntegrationTests.QueueControlTests {
    @Test("a cancelled call left at the head of a queue does not keep the broker overloaded")
    func cancelledQueuedCallIsNoOverload() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let broker = try broker(
            BrokerOptions(shedding: SheddingPolicy(queuedCalls: 64, callWaitMilliseconds: 4000, maxPriority: 3, calmMilliseconds: 100)),
            directory)
        defer { broker.stop() }
        let open = Mutex(false)
        let busy = try await startWorker(broker, concurrency: 1) { worker in
            worker.register("render") { _ in
                while !open.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
                return []
            }
        }
        let bulk = try await startWorker(broker, concurrency: 1) { $0.register("bulk") { _ in bytes("done") } }
        let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
        func call() -> Task<[UInt8], any Error> { Task { try await client.call("render", timeout: .seconds(30)) } }
        func queued() async throws -> Int { try await client.brokerStatus().functions.first { $0.name == "render" }?.queuedCalls ?? 0 }
        func waitForQueued(_ count: Int) async throws {
            for _ in 0..<1000 where try await queued() != count { try await Task.sleep(for: .milliseconds(10)) }
        }
        // One call runs; the next waits past call_wait_ms (a real overload) ...
        let running = call()
        let old = call()
        try await waitForQueued(1)
        try await Task.sleep(for: .milliseconds(4300))
        // ... then two fresh calls queue behind it, and it is cancelled: it is no longer waiting. (The
        // fresh calls must not wait call_wait_ms themselves before the job is submitted: 4 s leaves
        // room for a loaded machine.)
        let fresh = [call(), call()]
        try await waitForQueued(3)
        old.cancel()
        try await waitForQueued(2)
        let id = try await client.submit("bulk", options: JobOptions(priority: 0, sheddable: true))
        #expect(try await client.result(job: id, timeout: .seconds(10)) == bytes("done"))
        #expect(try await client.brokerStatus().counters["jobs_deferred"] == 0, "the fresh calls waited far less than call_wait_ms")
        open.withLock { $0 = true }
        for task in [running] + fresh { _ = try await task.value }
        await client.close()
        await bulk.stop()
        await busy.stop()
    }
}
