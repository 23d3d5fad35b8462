import Testing
import ZGridJobStore
import ZGridProtocol

@testable import ZGridBroker

/// Queue entries of jobs cancelled or superseded while queued stay in their function's queue until
/// a worker passes over them. Admission must judge by the live jobs only, and not walk past the
/// stale entries at each SUBMIT.
@Suite("Stale job queue entries")
struct JobStaleEntryTests {
    /// A core whose function `f` has the wait limit `maxWait`.
    func harness(maxWait: Int64) -> JobHarness {
        var options = testOptions(grace: 60_000)
        options.functions = ["f": FunctionPolicy(maxQueueWaitMilliseconds: maxWait)]
        return JobHarness(options: options)
    }

    /// The requests answered BUSY in `actions`.
    func refused(_ actions: [BrokerAction]) -> [UInt64] {
        actions.compactMap { if case .refuse(_, let requestID, _, _) = $0 { requestID } else { nil } }
    }

    /// Submits `count` jobs of `f` with `priority` from client 1, request ids from `first`, and
    /// commits them; returns the request ids refused.
    @discardableResult
    func submit(_ count: Int, from first: UInt64, priority: UInt8 = 0, _ harness: inout JobHarness) -> [UInt64] {
        var refusals: [UInt64] = []
        for request in first..<first + UInt64(count) {
            refusals += refused(harness.submit(client1, request, spec: JobSpec(priority: priority)))
        }
        harness.commit()
        return refusals
    }

    /// Cancels the jobs `ids` (from client 2) and commits the cancels.
    func cancel(_ ids: ClosedRange<Int64>, _ harness: inout JobHarness) {
        for id in ids { harness.job(client2, UInt64(10_000_000 + id), .cancel, id) }
        harness.commit()
    }

    @Test("admission under a wait limit drops the entries of cancelled jobs at the queue's front instead of walking past them")
    func staleHeadsDroppedAtAdmission() throws {
        var harness = harness(maxWait: 500)
        // Jobs 1-1400 queue at 0 ms, jobs 1401-3000 at 200 ms; the first 1400 are cancelled: fewer
        // than half of the entries, so the queue is not compacted on the way.
        submit(1400, from: 1, &harness)
        harness.tick(after: 200)
        submit(1600, from: 1401, &harness)
        cancel(1...1400, &harness)
        #expect(harness.driver.core.jobQueues["f"]?.count == 3000)
        #expect(harness.driver.core.queuedJobs(of: "f") == 1600, "stale entries are not counted as queued")
        harness.tick(after: 400)
        #expect(refused(harness.submit(client1, 5000)).isEmpty, "the oldest job left has waited 400 ms of 500")
        harness.commit()
        let queue = try #require(harness.driver.core.jobQueues["f"])
        #expect(queue.count == 1601, "the cancelled jobs' entries are gone, not skipped at each admission")
        #expect(queue.liveCount == 1601)
        harness.tick(after: 200)
        #expect(refused(harness.submit(client1, 5001)) == [5001], "the oldest job left has waited 600 ms and nothing drains")
    }

    @Test("once stale entries are the majority, the queue is compacted at once")
    func compactedAtMajority() throws {
        var harness = harness(maxWait: 60_000)
        submit(100, from: 1, &harness)
        cancel(1...50, &harness)
        #expect(harness.driver.core.jobQueues["f"]?.count == 100)
        cancel(51...51, &harness)
        #expect(harness.driver.core.jobQueues["f"]?.count == 49)
        cancel(52...100, &harness)
        #expect(harness.driver.core.jobQueues["f"] == nil, "nothing left to hold")
    }

    /// A harness with a worker of concurrency 1 that completed 10 jobs of `f` in the last second
    /// (a drain rate of about 10 a second), now idle.
    func warmedUp(maxWait: Int64) -> JobHarness {
        var harness = harness(maxWait: maxWait)
        harness.ready(worker1)
        harness.tick(after: 0)
        for request in UInt64(1)...10 {
            harness.submit(client2, request)
            _ = harness.runAttempts(harness.commit().jobAttempts, on: worker1)
            harness.tick(after: 100)
        }
        return harness
    }

    @Test("the wait limit counts the live jobs ahead, not the entries of cancelled ones")
    func aheadCountsLiveJobs() throws {
        var harness = warmedUp(maxWait: 5000)
        harness.submit(client2, 100)
        #expect(harness.commit().jobAttempts.count == 1, "the worker is busy from now on")
        // 10 to 11 a second drain: 50 to 55 jobs ahead make the 5000 ms allowed. 12 of priority 5 and 20
        // of priority 0 queue; the 12 are cancelled (not a majority: no compaction).
        #expect(submit(12, from: 101, priority: 5, &harness).isEmpty)
        #expect(submit(20, from: 201, &harness).isEmpty)
        cancel(12...23, &harness)
        #expect(harness.driver.core.jobQueues["f"]?.count == 32)
        // 29 more fit (20 + 29 + 1 = 50); counting the 12 stale entries, at most 22 would.
        let refusals = submit(29, from: 301, &harness)
        #expect(refusals.isEmpty, "refused: \(refusals)")
        #expect(harness.driver.core.jobsAhead(of: "f", priority: 0) == 49)
        #expect(harness.driver.core.jobsAhead(of: "f", priority: 5) == 0)
    }

    @Test("a queue holding only cancelled jobs' entries is idle: its drain rate is not worn down")
    func staleOnlyQueueKeepsRate() throws {
        var harness = warmedUp(maxWait: 2000)
        // The worker leaves; 5 jobs queue and are cancelled, their entries left in the queue.
        harness.message(worker1, .disconnect)
        #expect(submit(5, from: 100, &harness).isEmpty)
        cancel(11...15, &harness)
        // Ten seconds with nothing waiting: the rate stays, and a new job is admitted.
        for _ in 0..<20 { harness.tick(after: 500) }
        #expect(refused(harness.submit(client1, 200)).isEmpty)
    }
}
