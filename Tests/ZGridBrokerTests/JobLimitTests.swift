import Testing
import ZGridJobStore
import ZGridProtocol

@testable import ZGridBroker

/// `max_queued_jobs` bounds the jobs the broker holds for a function: delayed, waiting for a
/// retry and deferred ones count with the queued ones, and a delayed SUBMIT, or a JOB RETRY, is
/// refused at the limit too.
@Suite("max_queued_jobs counts every job waiting to run")
struct JobLimitTests {
    /// A core whose function `f` takes at most `limit` waiting jobs, overloaded once 1 call is
    /// queued (load shedding).
    func harness(limit: Int) -> JobHarness {
        var options = testOptions(grace: 60_000)
        options.functions = ["f": FunctionPolicy(maxQueuedJobs: limit)]
        options.shedding = SheddingPolicy(queuedCalls: 1)
        return JobHarness(options: options)
    }

    /// The requests answered BUSY in `actions`.
    func refused(_ actions: [BrokerAction]) -> [UInt64] {
        actions.compactMap { if case .refuse(_, let requestID, _, _) = $0 { requestID } else { nil } }
    }

    /// A spec for a job that runs a minute from now.
    func delayed(_ harness: JobHarness) -> JobSpec {
        JobSpec(runAt: harness.driver.core.wallNow + 60_000)
    }

    @Test("delayed jobs count against the limit, and a delayed job is refused at it too")
    func delayedJobsCount() throws {
        var harness = harness(limit: 2)
        harness.submit(client1, 1, spec: delayed(harness))
        harness.submit(client1, 2, spec: delayed(harness))
        harness.commit()
        #expect(harness.driver.core.jobCounts == ["scheduled": 2])
        #expect(refused(harness.submit(client1, 3)) == [3], "a job to run now")
        #expect(refused(harness.submit(client1, 4, spec: delayed(harness))) == [4], "a delayed job")
        // A cancelled delayed job no longer counts.
        harness.job(client2, 10, .cancel, 1)
        harness.commit()
        #expect(refused(harness.submit(client1, 5)).isEmpty)
        #expect(harness.driver.core.waitingJobs(of: "f") == 2)
    }

    @Test("a job waiting for its retry counts against the limit; a running one does not")
    func retryWaitCounts() throws {
        var harness = harness(limit: 1)
        harness.ready(worker1)
        harness.submit(client1, 1, spec: JobSpec(maxAttempts: 3, backoffMilliseconds: 60_000))
        let attempt = try #require(harness.commit().jobAttempts.first)
        #expect(refused(harness.submit(client1, 2)).isEmpty, "a running job does not count")
        harness.job(client2, 10, .cancel, 2)
        harness.commit()
        harness.message(worker1, .failure(dispatchID: attempt.dispatchID, code: .handlerError, message: "boom"))
        harness.commit()
        #expect(harness.driver.core.jobCounts == ["scheduled": 1])
        #expect(refused(harness.submit(client1, 3)) == [3])
    }

    /// A dead job of `f`, with `id`, as the store holds it.
    func deadJob(_ id: Int64, _ harness: JobHarness) -> JobRecord {
        let wall = harness.driver.core.wallNow
        var record = JobRecord(
            id: id, function: "f", payload: [], state: .dead, priority: 0, attempts: 1, maxAttempts: 1, backoffMilliseconds: 1000,
            timeLimitMilliseconds: 60_000, resultTTLMilliseconds: 60_000, uniqueKey: nil, tags: [], runAt: wall, createdAt: wall,
            updatedAt: wall)
        record.finishedAt = wall
        record.lastError = "handler_error: boom"
        return record
    }

    @Test("JOB RETRY is refused BUSY at the limit, like a SUBMIT, and the job stays as it was")
    func retryRefusedAtLimit() throws {
        var harness = harness(limit: 1)
        harness.seed(deadJob(100, harness))
        harness.submit(client1, 1)
        harness.commit()
        var actions = harness.job(client2, 10, .retry, 100)
        actions += harness.answerReads()
        #expect(refused(actions) == [10])
        let message = actions.compactMap { if case .refuse(_, _, let message, _) = $0 { message } else { nil } }.first ?? ""
        #expect(message.contains("job 100 was not queued again") && message.contains("the most allowed is 1"), "\(message)")
        #expect(actions.jobReplies.isEmpty)
        #expect(harness.stored[100]?.state == .dead, "the refused job stays dead")
        #expect(harness.driver.core.jobs[100] == nil)
        // Once the queue has room (job 1 runs), the same RETRY queues it.
        #expect(harness.ready(worker1).jobAttempts.map(\.job) == [1])
        actions = harness.job(client2, 12, .retry, 100)
        actions += harness.answerReads()
        actions += harness.commit()
        #expect(refused(actions).isEmpty)
        #expect(actions.jobReplies.map(\.request.requestID) == [12])
        #expect(harness.stored[100]?.state == .queued)
    }

    @Test("RETRYs not yet committed count against the limit: a burst of them cannot pass it")
    func retryBurstCounts() throws {
        var harness = harness(limit: 1)
        harness.seed(deadJob(100, harness))
        harness.seed(deadJob(101, harness))
        harness.job(client2, 10, .retry, 100)
        harness.job(client2, 11, .retry, 101)
        var actions = harness.answerReads()
        #expect(refused(actions) == [11])
        actions += harness.commit()
        #expect(actions.jobReplies.map(\.request.requestID) == [10])
        #expect(harness.stored[101]?.state == .dead)
        #expect(refused(harness.submit(client1, 1)) == [1], "the retried job fills the queue")
    }

    @Test("a queued job cancelled or superseded stops counting at once, though no worker has taken its queue entry")
    func cancelledQueuedJobsDoNotCount() throws {
        var harness = harness(limit: 2)
        let replacing = { (requestID: UInt64) in
            CoreMessage.submit(requestID: requestID, function: "f", spec: JobSpec(), keys: JobKeys(replace: "k"), tags: [], payload: [1])
        }
        harness.submit(client1, 1)
        harness.message(client1, replacing(2))
        harness.commit()
        harness.job(client2, 10, .cancel, 1)
        harness.commit()
        #expect(harness.driver.core.waitingJobs(of: "f") == 1, "job 2")
        #expect(refused(harness.message(client1, replacing(3))).isEmpty, "job 3 supersedes job 2")
        harness.commit()
        #expect(harness.driver.core.waitingJobs(of: "f") == 1, "job 3")
        #expect(refused(harness.submit(client1, 4)).isEmpty)
        harness.commit()
        #expect(refused(harness.submit(client1, 5)) == [5], "jobs 3 and 4 wait")
        // A worker takes the live jobs only; nothing is left counted.
        let ran = harness.ready(worker1, concurrency: 8).jobAttempts.map(\.job)
        #expect(ran == [3, 4])
        #expect(harness.driver.core.waitingJobs(of: "f") == 0)
    }

    @Test("jobs deferred by load shedding count against the limit")
    func deferredJobsCount() throws {
        var harness = harness(limit: 2)
        // Overloaded: worker 2 runs a call of g and another call of g is queued.
        harness.driver.ready(worker2, ["g"])
        harness.driver.call(client2, 1, "g")
        harness.driver.call(client2, 2, "g")
        var sheddable = JobSpec(priority: 0)
        sheddable.isSheddable = true
        for request in UInt64(1)...2 { harness.submit(client1, request, spec: sheddable) }
        harness.commit()
        harness.tick(after: 10)
        #expect(harness.driver.core.jobCounts == ["deferred": 2])
        #expect(refused(harness.submit(client1, 3)) == [3])
    }
}
