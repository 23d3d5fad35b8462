import Foundation
import Synchronization
import Testing
import ZGridBroker
import ZGridClient
import ZGridJobStore

extension IntegrationTests {
    @Suite("Job dispatch waits for a slow job store", .serialized, .timeLimit(.minutes(2)))
    struct StoreBacklogTests {
        @Test(
            "while the store's commits stall, no more job attempts start than the writes the broker lets wait; once they land, every job runs and is stored"
        )
        func attemptsWaitForCommits() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let path = directory.file("jobs.sqlite")
            let bound = 40
            let broker = try startBroker(jobStore: path, maxStoreWritesWaiting: bound)
            defer { broker.stop() }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let count = 400
            var ids: [UInt64] = []
            for index in 0..<count {
                ids.append(try await client.submit("echo", bytes("job \(index)"), options: JobOptions(maxAttempts: 1)))
            }
            // A slow disk: the store takes writes but commits none of them until released.
            CommitHold.hold(path: path)
            var held = true
            defer { if held { CommitHold.release(path: path) } }
            let started = Atomic<Int>(0)
            let worker = try await startWorker(broker, concurrency: 16) { worker in
                worker.register("echo") { request in
                    started.add(1, ordering: .relaxed)
                    return request.payload
                }
            }
            // Each attempt hands the store two writes (started, finished): about `bound / 2`
            // attempts run before dispatch waits. Without the bound the worker ran through all
            // of them while nothing committed.
            try await waitUntil("the first attempts ran") { started.load(ordering: .relaxed) >= bound / 4 }
            try await Task.sleep(for: .seconds(1))
            let startedWhileHeld = started.load(ordering: .relaxed)
            #expect(startedWhileHeld <= bound, "\(startedWhileHeld) attempts started while no write committed")
            CommitHold.release(path: path)
            held = false
            try await waitUntil("every job stored as succeeded", seconds: 60) { broker.status.statistics.jobsSucceeded == count }
            var stored: [UInt64] = []
            var after: UInt64?
            while true {
                let page = try await client.jobs(JobQuery(states: ["succeeded"], limit: 1000, afterID: after))
                if page.isEmpty { break }
                stored += page.map(\.id)
                after = page.last?.id
            }
            #expect(stored.sorted() == ids.sorted())
            #expect(started.load(ordering: .relaxed) == count)
            await client.close()
            await worker.stop()
        }
    }
}
