import Synchronization
import Testing
import ZGridBroker
import ZGridClient
import ZGridWorker
import ZeroMQ

extension IntegrationTests.QueueControlTests {
    @Test("a batch worker lost mid-batch: each job of the batch is retried or dead by its own attempts, none lost or run twice")
    func batchWorkerLostMidBatch() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let broker = try broker(BrokerOptions(), directory)
        defer { broker.stop() }
        let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
        // A worker that dies mid-batch: its context is shut down while the handler runs, so it
        // never answers nor says goodbye, and the broker finds it lost by its silence.
        let context = try Context()
        let started = Mutex<[[UInt64]]>([])
        let dying = Worker(
            broker: broker.endpoints[0], concurrency: 1, heartbeat: testHeartbeat, context: context, logger: quietLogger("test.dying"))
        dying.registerBatch("index", maxItems: 4, maxWait: .seconds(5)) { items in
            started.withLock { $0.append(items.map(\.job)) }
            try await Task.sleep(for: .seconds(60))
            return items.map { _ in .success([]) }
        }
        let before = broker.status.statistics.workersJoined
        let dyingTask = Task { try await dying.run() }
        try await waitUntil("the batch worker registered") { broker.status.statistics.workersJoined > before }
        // Three jobs with a second attempt left and one without: sent as one batch of 4.
        let retried = try await withThrowingTaskGroup(of: (Int, UInt64).self) { group in
            for index in 0..<3 {
                group.addTask {
                    (index, try await client.submit("index", bytes("doc-\(index)"), options: JobOptions(maxAttempts: 2, batchKey: "k")))
                }
            }
            var ids: [Int: UInt64] = [:]
            for try await (index, id) in group { ids[index] = id }
            return (0..<3).map { ids[$0]! }
        }
        let last = try await client.submit("index", bytes("last"), options: JobOptions(maxAttempts: 1, batchKey: "k"))
        try await waitUntil("the batch started") { !started.withLock { $0 }.isEmpty }
        #expect(started.withLock { $0 }.map { Set($0) } == [Set(retried + [last])], "one batch of all four jobs")
        context.shutdown()
        try await waitUntil("the worker was lost") { broker.status.statistics.workersLost == 1 }
        dyingTask.cancel()

        let runs = Mutex<[String: Int]>([:])
        let survivor = try await startWorker(broker, concurrency: 2) { worker in
            worker.registerBatch("index", maxItems: 4, maxWait: .milliseconds(50)) { items in
                runs.withLock { runs in for item in items { runs[String(decoding: item.payload, as: UTF8.self), default: 0] += 1 } }
                return items.map { .success($0.payload) }
            }
        }
        for (index, id) in retried.enumerated() {
            #expect(try await client.result(job: id, timeout: .seconds(15)) == bytes("doc-\(index)"))
            let status = try await client.status(job: id)
            #expect(status.attempts == 2)
        }
        let dead = try await client.status(job: last)
        #expect(dead.state == "dead")
        #expect(dead.lastError?.contains("lost") == true, "\(String(describing: dead.lastError))")
        #expect(runs.withLock { $0 } == ["doc-0": 1, "doc-1": 1, "doc-2": 1], "each retried job ran once more, the dead one not")
        let counters = try await client.brokerStatus().counters
        #expect(counters["jobs_retried"] == 3)
        #expect(counters["jobs_dead"] == 1)
        #expect(counters["jobs_succeeded"] == 3)
        #expect(counters["workers_lost"] == 1)
        await client.close()
        await survivor.stop()
    }
}
