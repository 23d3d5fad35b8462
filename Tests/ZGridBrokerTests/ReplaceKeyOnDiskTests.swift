import Testing
import ZGridJobStore
import ZGridProtocol

@testable import ZGridBroker

/// Replace keys when the job holding the key waits only on disk (past `maxResidentJobs`): the later
/// job supersedes it there, as it would in memory, and it never runs.
@Suite("Replace keys of jobs queued on disk")
struct ReplaceKeyOnDiskTests {
    @Test("a replace key supersedes a job that waits only on disk, in the transaction that stores its successor")
    func supersedesOnDisk() throws {
        var harness = Self.keyedJobOnDisk()
        #expect(harness.driver.core.jobCounts == ["queued": 2, "queued_on_disk": 1])
        harness.job(client2, 10, .wait, 3, wait: 60_000)
        #expect(harness.answerReads().jobReplies.isEmpty, "the WAIT is held: job 3 is queued on disk")

        let submitted = harness.message(client1, ReplaceKeyTests.submit(4, replace: "k"))
        let writes = submitted.compactMap { if case .storeWrite(let writes, _) = $0 { writes } else { nil } }
        #expect(writes.count == 1)
        #expect(writes.first?.count == 2, "job 3's cancel and job 4 are one write")
        if case .cancelQueued(let id, let error, _) = writes.first?.first {
            #expect(id == 3)
            #expect(error == "superseded by job 4")
        } else {
            Issue.record("the write does not begin with job 3's cancel: \(writes)")
        }
        harness.commit()
        #expect(harness.stored[3]?.state == .cancelled)
        #expect(harness.stored[3]?.lastError == "superseded by job 4")
        #expect(harness.stored[3]?.payload == [7], "the payload stays, for a retry")
        #expect(harness.driver.core.replaceJobs == ["k": 4])
        #expect(harness.driver.core.uniqueJobs["u"] == nil, "job 3's unique key is free again")
        #expect(harness.driver.core.statistics.jobsSuperseded == 1)
        #expect(harness.driver.core.jobCounts == ["queued": 2, "queued_on_disk": 1], "job 4 waits on disk in place of job 3")
        let cancelled = harness.driver.published.filter { $0.job == 3 && $0.kind == "cancelled" }
        #expect(cancelled.map(\.tags) == [["t"]])
        #expect(cancelled.map(\.error) == ["superseded by job 4"])

        let answered = harness.answerReads().jobReplies
        #expect(answered.map(\.request) == [ClientRequest(client: client2, requestID: 10)])
        #expect(answered.first?.jobs.map(\.state) == ["cancelled"], "the held WAIT gets job 3's final record")

        let actions = harness.ready(worker1)
        let ran = harness.runAttempts(actions.jobAttempts, on: worker1)
        #expect((actions + ran).jobAttempts.map(\.job) == [1, 2, 4], "job 3 never runs")
        #expect(harness.driver.core.jobCounts.isEmpty)
        #expect(harness.driver.core.spilledKeyHolders.isEmpty)
        #expect(harness.driver.core.cancelledOnDisk.isEmpty)
    }

    @Test("a page read under way that still lists the superseded job skips it")
    func pageReadSkipsSuperseded() throws {
        var harness = Self.keyedJobOnDisk()
        // Jobs 1 and 2 run and finish; the core then asks for the jobs on disk, and the answer
        // (taken before job 4 is stored) lists job 3 as queued.
        let first = harness.ready(worker1)
        let ran = harness.runAttempts(first.jobAttempts, on: worker1, answeringReads: false)
        #expect((first + ran).jobAttempts.map(\.job) == [1, 2])
        #expect(harness.pendingReads == 1)
        harness.message(client1, ReplaceKeyTests.submit(4, replace: "k"))
        var later = harness.commit()
        later += harness.answerReads()
        later += harness.runAttempts(later.jobAttempts, on: worker1)
        #expect(later.jobAttempts.map(\.job) == [4], "job 3 never runs")
        #expect(harness.stored[3]?.state == .cancelled)
        #expect(harness.driver.core.jobCounts.isEmpty)
        #expect(harness.driver.core.spilledKeyHolders.isEmpty)
    }

    /// A core holding at most 2 jobs in memory: jobs 1 and 2 queued there, then job 3 (replace key
    /// `k`, unique key `u`, tag `t`) queued on disk only.
    static func keyedJobOnDisk() -> JobHarness {
        var options = testOptions(grace: 60_000)
        options.maxResidentJobs = 2
        var harness = JobHarness(options: options)
        for request in UInt64(1)...2 {
            harness.submit(client1, request)
            harness.commit()
        }
        harness.message(client1, ReplaceKeyTests.submit(3, replace: "k", unique: "u", tags: ["t"]))
        harness.commit()
        return harness
    }
}
