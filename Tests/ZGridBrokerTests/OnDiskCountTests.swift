import Testing
import ZGridJobStore
import ZGridProtocol

@testable import ZGridBroker

/// The count of queued jobs waiting only on disk (`queued_on_disk`, and admission's queue length)
/// follows cancels of such jobs, with and without a restart.
@Suite("Queued jobs on disk are counted right")
struct OnDiskCountTests {
    @Test("cancelling a job queued on disk stops counting it there at once, and for good")
    func cancelOnDisk() throws {
        var options = testOptions(grace: 60_000)
        options.maxResidentJobs = 2
        var harness = JobHarness(options: options)
        for request in UInt64(1)...4 {
            harness.submit(client1, request)
            harness.commit()
        }
        #expect(harness.driver.core.jobCounts == ["queued": 2, "queued_on_disk": 2])
        harness.job(client2, 10, .cancel, 4)
        harness.answerReads()
        harness.commit()
        #expect(harness.driver.core.jobCounts == ["queued": 2, "queued_on_disk": 1])
        #expect(harness.driver.core.queuedJobs(of: "f") == 3, "admission no longer counts job 4")
        let actions = harness.ready(worker1)
        let ran = harness.runAttempts(actions.jobAttempts, on: worker1)
        #expect((actions + ran).jobAttempts.map(\.job) == [1, 2, 3])
        #expect(harness.driver.core.jobCounts.isEmpty)
        #expect(harness.driver.core.queuedJobs(of: "f") == 0)
        #expect(harness.driver.core.cancelledOnDisk.isEmpty)
    }

    @Test("after a restart, cancelling jobs that wait only on disk leaves nothing counted there once all have run")
    func cancelOnDiskAfterRestart() throws {
        var options = testOptions(grace: 60_000)
        options.maxResidentJobs = 2
        var harness = JobHarness(options: options)
        var recovered: [BrokerAction] = []
        let records = (Int64(1)...5).map {
            JobRecord(id: $0, function: "f", payload: [7], runAt: 1_700_000_000_000, createdAt: 1_700_000_000_000)
        }
        for record in records { harness.seed(record) }
        harness.driver.core.recoverJobs(records, maxID: 5, now: 0, into: &recovered)
        #expect(harness.driver.core.jobCounts == ["queued": 2, "queued_on_disk": 3])
        for (request, id) in [(UInt64(10), Int64(5)), (11, 4)] {
            harness.job(client2, request, .cancel, id)
            harness.answerReads()
        }
        harness.commit()
        #expect(harness.driver.core.jobCounts == ["queued": 2, "queued_on_disk": 1])
        let actions = harness.ready(worker1)
        let ran = harness.runAttempts(actions.jobAttempts, on: worker1)
        #expect((actions + ran).jobAttempts.map(\.job) == [1, 2, 3])
        #expect(harness.driver.core.jobCounts.isEmpty, "nothing is queued, on disk or in memory")
    }
}
