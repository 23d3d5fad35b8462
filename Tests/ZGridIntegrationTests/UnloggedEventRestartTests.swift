import Foundation
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZGridWorker

extension IntegrationTests {
    @Suite("Events live only: a subscriber across a broker restart", .serialized, .timeLimit(.minutes(3)))
    struct UnloggedEventRestartTests {
        /// Runs `count` noop jobs one after another, each to its result.
        private func runNoopJobs(_ count: Int, _ client: GridClient) async throws -> [UInt64] {
            var ids: [UInt64] = []
            for _ in 0..<count {
                let id = try await client.submit("noop")
                _ = try await client.result(job: id, timeout: .seconds(20))
                ids.append(id)
            }
            return ids
        }

        @Test("a consumer that keeps up does not lag after a broker that logs no events restarts and numbers them again")
        func noLagAfterRenumbering() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let endpoint = "tcp://127.0.0.1:\(try freePort())"
            let live = EventHubOptions(record: false)
            var broker = try startBroker(endpoint: endpoint, jobStore: directory.file("jobs.sqlite"), events: live)
            let worker = try await startWorker(broker, concurrency: 4) { worker in worker.register("noop") { _ in [] } }
            let client = try GridClient(broker: endpoint, heartbeat: testHeartbeat)
            let collector = EventTests.Collector(try client.events(matching: .function("noop"), window: 8))
            try await waitUntil("subscribed") { collector.snapshot.contains { $0.kind == .subscribed } }
            let before = try await runNoopJobs(40, client)
            try await waitUntil("the events before the restart", seconds: 20) {
                collector.snapshot.count(where: { $0.kind == .succeeded }) == before.count
            }
            let highestBefore = collector.snapshot.map(\.seq).max() ?? 0
            broker.stop()
            broker = try await restartBroker(endpoint: endpoint, jobStore: directory.file("jobs.sqlite"), events: live)
            defer { broker.stop() }
            try await waitUntil("subscribed again and the worker back", seconds: 15) {
                collector.snapshot.count(where: { $0.kind == .subscribed }) >= 2 && broker.status.workers == 1
            }
            let subscribedAgain = try #require(collector.snapshot.last { $0.kind == .subscribed })
            #expect(subscribedAgain.seq < highestBefore, "the new broker numbers its events from the start again")
            // One job at a time: a consumer that takes each event at once acknowledges well within
            // its window, although the new seqs are below those it took before the restart.
            let after = try await runNoopJobs(40, client)
            try await waitUntil("every event after the restart, or a lag", seconds: 20) {
                collector.snapshot.contains { $0.kind == .lagged }
                    || collector.snapshot.count(where: { $0.kind == .succeeded }) == before.count + after.count
            }
            #expect(!collector.snapshot.contains { $0.kind == .lagged }, "a consumer reading at once never lags")
            let incomplete = after.filter { collector.kinds(of: $0) != [.queued, .started, .succeeded] }
            #expect(incomplete.isEmpty, "jobs without their three events in order: \(incomplete)")
            #expect(collector.error == nil)
            await collector.stop()
            await client.close()
            await worker.stop()
        }
    }
}
