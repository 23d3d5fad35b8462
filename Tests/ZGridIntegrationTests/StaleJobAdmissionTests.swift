import Foundation
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol

extension IntegrationTests.QueueControlTests {
    @Test("jobs cancelled while queued do not count as waiting: the next SUBMIT is admitted under max_queue_wait_ms, not refused BUSY")
    func cancelledJobsDoNotHoldAdmission() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let broker = try broker(BrokerOptions(functions: ["stamp": FunctionPolicy(maxQueueWaitMilliseconds: 2000)]), directory)
        defer { broker.stop() }
        let worker = try await startWorker(broker, concurrency: 1) { worker in
            worker.register("stamp") { _ in
                try await Task.sleep(for: .milliseconds(20))
                return bytes("ok")
            }
        }
        let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat, busyRetries: 0)
        // 20 jobs run one after the other, each submitted once the last has finished (all at once,
        // a slow machine's queue would already be over the wait limit): the broker learns how fast
        // 'stamp' drains.
        for _ in 0..<20 {
            let id = try await client.submit("stamp")
            #expect(try await client.result(job: id, timeout: .seconds(20)) == bytes("ok"))
        }
        // The worker leaves; five jobs queue and are cancelled, their entries left in the queue.
        await worker.stop()
        var cancelled: [UInt64] = []
        for _ in 0..<5 { cancelled.append(try await client.submit("stamp")) }
        for id in cancelled { #expect(try await client.cancel(job: id).state == "cancelled") }
        // Nothing waits for five seconds: the drain rate must not wear down as if jobs waited.
        try await Task.sleep(for: .seconds(5))
        let next = await outcome { () async throws(GridError) in try await client.submit("stamp") }
        guard case .success = next else {
            Issue.record("a SUBMIT with no live job queued was answered \(next)")
            return
        }
        #expect(try await client.jobs(JobQuery(states: ["queued"], function: "stamp")).count == 1)
        await client.close()
    }
}
