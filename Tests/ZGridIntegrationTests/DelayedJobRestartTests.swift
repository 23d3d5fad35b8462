import Foundation
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol

extension IntegrationTests {
    /// Delayed jobs whose run-at passes while the broker is down, over real restarts and a real store.
    @Suite("Delayed jobs due while the broker is down", .serialized, .timeLimit(.minutes(2)))
    struct DelayedJobRestartTests {
        @Test("a delayed job due while the broker is down runs once after the restart; a cancelled one stays cancelled and never runs")
        func dueWhileDown() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let store = directory.file("jobs.sqlite")
            var broker = try startBroker(jobStore: store)
            let endpoint = broker.endpoints[0]
            let kept = Counter()
            let cancelled = Counter()
            let worker = try await startWorker(broker, concurrency: 2) { worker in
                worker.register("stamp") { request in
                    if request.payload == bytes("kept") { kept.increment() } else { cancelled.increment() }
                    return request.payload
                }
            }
            let client = try GridClient(broker: endpoint, heartbeat: testHeartbeat)
            let keptID = try await client.submit("stamp", bytes("kept"), options: JobOptions(delay: .milliseconds(800)))
            let cancelledID = try await client.submit("stamp", bytes("cancelled"), options: JobOptions(delay: .milliseconds(800)))
            #expect(try await client.cancel(job: cancelledID).state == "cancelled")
            broker.stop()
            // Both run-ats pass while no broker runs.
            try await Task.sleep(for: .milliseconds(1500))
            broker = try await restartBroker(endpoint: endpoint, jobStore: store)
            #expect(try await client.result(job: keptID, timeout: .seconds(20)) == bytes("kept"))
            // Another restart after it ran: nothing runs again.
            broker.stop()
            broker = try await restartBroker(endpoint: endpoint, jobStore: store)
            defer { broker.stop() }
            try await Task.sleep(for: .milliseconds(1500))
            #expect(kept.count == 1, "the job due while the broker was down ran \(kept.count) times")
            #expect(cancelled.count == 0, "the cancelled job ran")
            #expect(try await client.status(job: cancelledID).state == "cancelled")
            #expect(try await client.status(job: keptID).state == "succeeded")
            await client.close()
            await worker.stop()
        }
    }
}
