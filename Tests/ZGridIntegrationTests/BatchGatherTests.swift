import Synchronization
import Testing
import ZGridBroker
import ZGridClient
import ZGridWorker

extension IntegrationTests.QueueControlTests {
    @Test("jobs with a batch key queued before a batch-capable worker registered, or before a restart, still go as batches")
    func batchJobsQueuedBeforeTheBatchWorker() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }

        /// Submits four jobs sharing a batch key, then starts a batch-capable worker (batches of up
        /// to 4, held up to 5 s) and returns the sizes of the batches it ran them in.
        func batchSizes(on broker: BrokerServer, submitting: Bool) async throws -> [Int] {
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            if submitting {
                for index in 0..<4 { _ = try await client.submit("index", bytes("doc-\(index)"), options: JobOptions(batchKey: "k")) }
            }
            let sizes = Mutex<[Int]>([])
            let worker = try await startWorker(broker, concurrency: 2) { worker in
                worker.registerBatch("index", maxItems: 4, maxWait: .seconds(5)) { items in
                    sizes.withLock { $0.append(items.count) }
                    return items.map { .success($0.payload) }
                }
            }
            try await waitUntil("the four jobs ran") { sizes.withLock { $0.reduce(0, +) } >= 4 }
            await worker.stop()
            await client.close()
            return sizes.withLock { $0 }
        }
        let first = try broker(BrokerOptions(), directory)
        #expect(try await batchSizes(on: first, submitting: true) == [4], "queued before any batch-capable worker")
        // Queued while the broker knows the function takes batches, then read back after a restart.
        let client = try GridClient(broker: first.endpoints[0], heartbeat: testHeartbeat)
        for index in 0..<4 { _ = try await client.submit("index", bytes("doc-\(index)"), options: JobOptions(batchKey: "k")) }
        await client.close()
        first.stop()
        let second = try broker(BrokerOptions(), directory)
        defer { second.stop() }
        #expect(try await batchSizes(on: second, submitting: false) == [4], "read back after a restart")
    }
}
