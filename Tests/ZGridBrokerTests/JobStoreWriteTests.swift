import Testing
import ZGridJobStore
import ZGridProtocol

@testable import ZGridBroker

/// What the core hands to the job store, and when it answers, for jobs that change state without
/// a SUBMIT: due jobs and JOB RETRY.
@Suite("Job state changes reach the store")
struct JobStoreWriteTests {
    @Test("a delayed job and a job backing off are written to the store as queued when they become due")
    func dueJobsAreWritten() throws {
        var harness = JobHarness(options: testOptions(grace: 60_000))
        harness.ready(worker1)
        // Job 1 fails its first attempt and backs off (at most 1.5 s); job 2 then holds the only worker.
        harness.submit(client1, 1, spec: JobSpec(maxAttempts: 3, backoffMilliseconds: 1_000))
        let first = try #require(harness.commit().jobAttempts.first)
        harness.message(worker1, .failure(dispatchID: first.dispatchID, code: .handlerError, message: "boom"))
        harness.submit(client1, 2)
        #expect(harness.commit().jobAttempts.map(\.job) == [2])
        // Job 3 is delayed by a second.
        harness.submit(client1, 3, spec: JobSpec(runAt: harness.driver.core.wallNow + 1_000))
        harness.commit()
        #expect(harness.stored[1]?.state == .scheduled)
        #expect(harness.stored[3]?.state == .scheduled)

        harness.message(worker1, .workerHeartbeat)
        harness.tick(after: 2_000)
        harness.commit()
        #expect(harness.driver.core.jobs[1]?.record.state == .queued)
        #expect(harness.driver.core.jobs[3]?.record.state == .queued)
        #expect(harness.stored[1]?.state == .queued, "the job backing off is queued on disk too")
        #expect(harness.stored[3]?.state == .queued, "the delayed job is queued on disk too")
        // JOBS LIST (answered by the store) agrees with JOB STATUS (answered from memory).
        var actions = harness.message(client2, .jobs(requestID: 7, verb: .list, query: JobQuery(states: ["queued"])))
        actions += harness.job(client2, 8, .status, 1)
        actions += harness.job(client2, 9, .status, 3)
        actions += harness.answerReads()
        let list = try #require(actions.jobReplies.first { $0.request.requestID == 7 })
        #expect(list.jobs.map(\.id) == [1, 3])
        #expect(list.jobs.map(\.state) == ["queued", "queued"])
        #expect(actions.jobReplies.filter { $0.request.requestID != 7 }.flatMap(\.jobs).map(\.state) == ["queued", "queued"])
    }
}
