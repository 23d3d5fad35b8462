import Foundation
import Testing
import ZGridClient
import ZGridWorker

extension IntegrationTests {
    @Suite("Queued jobs on disk counted across a restart", .serialized, .timeLimit(.minutes(1)))
    struct OnDiskRestartTests {
        @Test("after a restart, cancelling jobs that wait only on disk leaves none counted there once every job has run")
        func onDiskCountAfterRestart() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let store = directory.file("jobs.sqlite")
            var ids: [UInt64] = []
            do {
                let broker = try startBroker(jobStore: store, maxResidentJobs: 100)
                let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
                for index in 0..<110 { ids.append(try await client.submit("tally", bytes("\(index)"))) }
                await client.close()
                broker.stop()
            }
            // At start the broker holds 100 of the 110 queued jobs in memory; 10 wait only on disk.
            let broker = try startBroker(jobStore: store, maxResidentJobs: 100)
            defer { broker.stop() }
            try await waitUntil("backlog on disk") { broker.status.jobs["queued_on_disk"] == 10 }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            for id in ids.suffix(2) { #expect(try await client.cancel(job: id).state == "cancelled") }
            try await waitUntil("cancelled jobs counted off") { broker.status.jobs["queued_on_disk"] == 8 }
            let worker = try await startWorker(broker) { $0.register("tally") { _ in [] } }
            try await waitUntil("every job has run", seconds: 30) { broker.status.statistics.jobsSucceeded == 108 }
            try await waitUntil("nothing counted as queued") { broker.status.jobs.isEmpty }
            #expect(broker.status.jobs["queued_on_disk"] == nil)
            await client.close()
            await worker.stop()
        }

        @Test("a job with a replace key that waits only on disk is superseded by a later job with the key, and never runs")
        func replaceKeyOnDisk() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let broker = try startBroker(jobStore: directory.file("jobs.sqlite"), maxResidentJobs: 100)
            defer { broker.stop() }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            for index in 0..<100 { _ = try await client.submit("tally", bytes("\(index)")) }
            let earlier = try await client.submit("tally", bytes("earlier"), options: JobOptions(replaceKey: "digest"))
            try await waitUntil("the keyed job waits on disk") { broker.status.jobs["queued_on_disk"] == 1 }
            let later = try await client.submit("tally", bytes("later"), options: JobOptions(replaceKey: "digest"))
            let superseded = try await client.status(job: earlier)
            #expect(superseded.state == "cancelled")
            #expect(superseded.lastError == "superseded by job \(later)")
            let ran = Counter()
            let worker = try await startWorker(broker) {
                $0.register("tally") { (request: WorkerRequest) in
                    #expect(request.payload != bytes("earlier"), "the superseded job ran")
                    ran.increment()
                    return []
                }
            }
            #expect(try await client.result(job: later) == [])
            try await waitUntil("every job has run", seconds: 30) { broker.status.statistics.jobsSucceeded == 101 }
            #expect(ran.count == 101)
            #expect(broker.status.statistics.jobsSuperseded == 1)
            try await waitUntil("nothing counted as queued") { broker.status.jobs.isEmpty }
            await client.close()
            await worker.stop()
        }
    }
}
