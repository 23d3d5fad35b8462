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

    @Test("JOB RETRY answers once the queued job has committed, and its unique key coalesces SUBMITs again")
    func retryAnswersAfterCommit() throws {
        var harness = JobHarness.cancelledJob()
        #expect(harness.stored[1]?.state == .cancelled)
        var actions = harness.job(client1, 3, .retry, 1)
        actions += harness.answerReads()
        #expect(actions.jobReplies.isEmpty, "no answer before the write commits")
        #expect(harness.stored[1]?.state == .queued, "the queued job was handed to the store")
        // A SUBMIT with the key before the commit is coalesced into the retried job, as for a new job.
        actions = harness.message(client2, JobHarness.submit(4, key: "k"))
        #expect(actions.acceptedJobs.isEmpty, "acknowledged only when the job is committed")
        actions = harness.commit()
        let reply = try #require(actions.jobReplies.first)
        #expect(actions.jobReplies.count == 1)
        #expect(reply.request == ClientRequest(client: client1, requestID: 3))
        #expect(reply.jobs.map(\.id) == [1])
        #expect(reply.jobs.map(\.state) == ["queued"])
        #expect(reply.jobs.map(\.attempts) == [0])
        #expect(actions.acceptedJobs.map(\.requestID) == [4])
        #expect(actions.acceptedJobs.map(\.job) == [1])
        // After the commit too, at once; no second job with the key is created.
        actions = harness.message(client2, JobHarness.submit(5, key: "k"))
        #expect(actions.acceptedJobs.map(\.job) == [1])
        #expect(harness.stored.count == 1)
        // Once the retried job has run, the key is free again.
        actions = harness.ready(worker1)
        actions = harness.runAttempts(actions.jobAttempts, on: worker1)
        #expect(actions.finishedJobs.map(\.record.state) == [.succeeded])
        harness.message(client2, JobHarness.submit(6, key: "k"))
        #expect(harness.commit().acceptedJobs.map(\.job) == [2])
    }

    @Test("a JOB RETRY whose write fails is answered INTERNAL; the job stays as the store holds it")
    func retryWriteFails() throws {
        var harness = JobHarness.cancelledJob()
        var actions = harness.job(client1, 3, .retry, 1)
        actions += harness.answerReads()
        #expect(actions.jobReplies.isEmpty)
        actions = harness.failWrites()
        #expect(actions.failures == [SentFailure(client: client1, requestID: 3, code: .internal)])
        #expect(actions.jobReplies.isEmpty)
        #expect(harness.driver.core.jobs[1] == nil, "nothing of the retry is left in memory")
        #expect(harness.stored[1]?.state == .cancelled)
        // STATUS says so, and the key is free: a SUBMIT with it makes a new job.
        actions = harness.job(client1, 4, .status, 1)
        actions += harness.answerReads()
        #expect(actions.jobReplies.flatMap(\.jobs).map(\.state) == ["cancelled"])
        harness.message(client2, JobHarness.submit(5, key: "k"))
        #expect(harness.commit().acceptedJobs.map(\.job) == [2])
        // A worker runs only the new job.
        actions = harness.ready(worker1)
        #expect(actions.jobAttempts.map(\.job) == [2])
    }
}

extension JobHarness {
    /// A SUBMIT of a job of `f` with the unique key `key`.
    static func submit(_ requestID: UInt64, key: String) -> CoreMessage {
        .submit(requestID: requestID, function: "f", spec: JobSpec(), keys: JobKeys(unique: key), tags: [], payload: [7])
    }

    /// A core whose job 1, with the unique key "k", was cancelled while queued (no worker), and
    /// committed so.
    static func cancelledJob() -> JobHarness {
        var harness = JobHarness(options: testOptions(grace: 60_000))
        harness.message(client1, submit(1, key: "k"))
        harness.commit()
        harness.job(client1, 2, .cancel, 1)
        harness.commit()
        return harness
    }
}
