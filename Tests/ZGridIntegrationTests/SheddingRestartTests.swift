import Synchronization
import Testing
import ZGridBroker
import ZGridClient
import ZGridWorker

extension IntegrationTests.QueueControlTests {
    @Test("jobs deferred when the broker stops are swept back after the restart and each runs exactly once")
    func deferredJobsAcrossRestart() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let options = BrokerOptions(
            shedding: SheddingPolicy(queuedCalls: 2, callWaitMilliseconds: 30, maxPriority: 3, calmMilliseconds: 300))
        let first = try broker(options, directory)
        let worker = try await startWorker(first, concurrency: 2) { worker in
            worker.register("slow") { _ in
                try await Task.sleep(for: .milliseconds(60))
                return []
            }
        }
        let client = try GridClient(broker: first.endpoints[0], heartbeat: testHeartbeat)
        let flooding = Flag()
        let flood = Task {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<8 {
                    group.addTask { while flooding.isSet { _ = try? await client.call("slow", timeout: .seconds(10)) } }
                }
            }
        }
        try await waitUntil("overloaded") { first.status.callsInFlight >= 6 }
        // No worker serves `bulk` yet: under the overload every job is parked, none runs.
        var ids: [UInt64] = []
        for index in 0..<20 {
            ids.append(try await client.submit("bulk", bytes("\(index)"), options: JobOptions(priority: 1, sheddable: true)))
        }
        try await waitUntil("every job deferred") { first.status.jobs["deferred"] == 20 }
        #expect(first.status.statistics.jobsDeferred == 20)
        #expect(first.status.statistics.jobsSwept == 0)
        first.stop()
        flooding.clear()
        await flood.value
        await worker.stop()
        await client.close()

        let second = try broker(options, directory)
        defer { second.stop() }
        let runs = Mutex<[String: Int]>([:])
        let bulk = try await startWorker(second, concurrency: 2) { worker in
            worker.register("bulk") { request in
                runs.withLock { $0[String(decoding: request.payload, as: UTF8.self), default: 0] += 1 }
                return []
            }
        }
        let next = try GridClient(broker: second.endpoints[0], heartbeat: testHeartbeat)
        for id in ids { _ = try await next.result(job: id, timeout: .seconds(15)) }
        #expect(runs.withLock { $0 } == Dictionary(uniqueKeysWithValues: (0..<20).map { ("\($0)", 1) }), "each job ran once")
        #expect(second.status.statistics.jobsSwept == 20, "every deferred job was swept back")
        #expect(second.status.statistics.jobsDeferred == 0)
        await next.close()
        await bulk.stop()
    }
}
