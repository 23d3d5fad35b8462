import Foundation
import Testing
import ZGridClient
import ZGridWorker

extension IntegrationTests {
    @Suite("Job attempts cut short by a cluster's stop", .serialized, .timeLimit(.minutes(1)))
    struct StopCutShortTests {
        @Test("a worker forced out while the broker refuses new work (zgrid up's stop) leaves its job to run after the restart")
        func forcedOutJobRunsAfterRestart() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let store = directory.file("jobs.sqlite")
            var broker = try startBroker(jobStore: store)
            let endpoint = broker.endpoints[0]
            let started = Gate()
            let worker = try await startWorker(broker, concurrency: 1) { worker in
                worker.register("slow") { _ in
                    started.open()
                    try await Task.sleep(for: .seconds(30))
                    return bytes("slept")
                }
            }
            var client = try GridClient(broker: endpoint, heartbeat: testHeartbeat)
            let id = try await client.submit("slow", bytes("1"), options: JobOptions(maxAttempts: 1))
            await started.wait()
            // What `zgrid up` does on Ctrl-C: the broker refuses new work, the workers stop
            // gracefully, and at the end of the shutdown grace they are forced out.
            broker.refuseNewWork()
            worker.worker.stop()
            worker.worker.stop(force: true)
            _ = await worker.task.result
            try await waitUntil("the attempt has ended") { broker.status.jobs["running"] == nil }
            #expect(broker.status.statistics.jobsDead == 0, "the job was dead-lettered")
            await client.close()
            broker.stop()

            broker = try await restartBroker(endpoint: endpoint, jobStore: store)
            defer { broker.stop() }
            let rescuer = try await startWorker(broker) { $0.register("slow") { _ in bytes("done") } }
            client = try GridClient(broker: endpoint, heartbeat: testHeartbeat)
            #expect(try await client.result(job: id, timeout: .seconds(10)) == bytes("done"))
            await client.close()
            await rescuer.stop()
        }
    }
}
