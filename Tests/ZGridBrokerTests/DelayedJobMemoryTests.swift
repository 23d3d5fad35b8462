import Testing
import ZGridJobStore
import ZGridProtocol

@testable import ZGridBroker

@Suite("Delayed jobs that leave before their run-at do not stay in memory until then")
struct DelayedJobMemoryTests {
    /// The end of year 9999, the latest run-at the reference client sends.
    let farFuture: Int64 = 253_402_300_799_000

    @Test("3000 delayed jobs cancelled and 3000 superseded by replace keys leave few entries in the run-at heap; live ones still run")
    func cancelledDelayedJobsAreDropped() throws {
        var harness = JobHarness(options: testOptions(grace: 60_000))
        for requestID in UInt64(1)...3000 {
            harness.submit(client1, requestID, spec: JobSpec(runAt: farFuture))
        }
        harness.commit()
        for id in Int64(1)...3000 { harness.job(client1, 10_000 + UInt64(id), .cancel, id) }
        harness.commit()
        // A debounce: each delayed job replaces the one before it.
        for requestID in UInt64(3001)...6000 {
            harness.message(
                client1,
                .submit(
                    requestID: requestID, function: "f", spec: JobSpec(runAt: farFuture), keys: JobKeys(replace: "debounce"), tags: [],
                    payload: []))
        }
        harness.submit(client1, 6001, spec: JobSpec(runAt: harness.driver.core.wallNow + 1_000))
        harness.commit()
        #expect(harness.driver.core.jobCounts["scheduled"] == 2, "the last debounced job and the one due in a second")
        #expect(
            harness.driver.core.scheduledJobs.count <= 2048, "\(harness.driver.core.scheduledJobs.count) run-at entries for 2 delayed jobs")
        #expect(harness.driver.core.scheduledJobs.unordered.contains { $0.id == 6000 }, "the live debounced job keeps its entry")
        harness.tick(after: 2_000)
        #expect(harness.driver.core.jobs[6001]?.record.state == .queued, "the job due in a second became queued")
        #expect(harness.driver.core.jobs[6000]?.record.state == .scheduled)
    }
}
