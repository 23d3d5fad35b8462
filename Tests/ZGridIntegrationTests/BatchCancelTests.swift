import Synchronization
import Testing
import ZGridBroker
import ZGridClient
import ZGridWorker

extension IntegrationTests.QueueControlTests {
    @Test("cancelling one job of a running batch leaves the batch running: the other jobs get their results")
    func cancelOneJobOfARunningBatch() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let broker = try broker(BrokerOptions(), directory)
        defer { broker.stop() }
        let gate = Gate()
        let batches = Counter()
        let cancelled = Counter()
        let worker = try await startWorker(broker, concurrency: 2) { worker in
            worker.registerBatch("index", maxItems: 3, maxWait: .seconds(5)) { items in
                batches.increment()
                await withTaskCancellationHandler {
                    await gate.wait()
                } onCancel: {
                    cancelled.increment()
                }
                return items.map { .success($0.payload) }
            }
        }
        let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
        var ids: [UInt64] = []
        for index in 0..<3 { ids.append(try await client.submit("index", bytes("doc-\(index)"), options: JobOptions(batchKey: "k"))) }
        try await waitUntil("the batch runs") { batches.count == 1 }
        #expect(try await client.cancel(job: ids[1]).state == "cancelled")
        gate.open()
        for index in [0, 2] {
            let result = try await client.result(job: ids[index], timeout: .seconds(10))
            #expect(result == bytes("doc-\(index)"))
        }
        #expect(try await client.status(job: ids[1]).state == "cancelled")
        #expect(cancelled.count == 0, "the batch's handler ran on for the other jobs")
        #expect(batches.count == 1)
        await client.close()
        await worker.stop()
    }
}
