import Testing
import ZGridJobStore
import ZGridProtocol

@testable import ZGridBroker

/// JOB RETRY of a job with a replace key: the retried job holds the key again, as any queued job,
/// unless another unfinished job holds it; then the job is not retried.
@Suite("JOB RETRY and replace keys")
struct RetryReplaceKeyTests {
    /// A core whose job 1, with the replace key "k", was cancelled while queued (no worker), and
    /// committed so.
    func cancelledJob() -> JobHarness {
        var harness = JobHarness(options: testOptions(grace: 60_000))
        harness.message(client1, ReplaceKeyTests.submit(1, replace: "k"))
        harness.commit()
        harness.job(client1, 2, .cancel, 1)
        harness.commit()
        return harness
    }

    /// A JOB RETRY of job 1 (client 2, request `requestID`), its read answered and its write (if any)
    /// committed: the answer's state.
    func retryJobOne(_ harness: inout JobHarness, _ requestID: UInt64) throws -> String? {
        var actions = harness.job(client2, requestID, .retry, 1)
        actions += harness.answerReads()
        actions += harness.commit()
        return try #require(actions.jobReplies.first { $0.request.requestID == requestID }).jobs.first?.state
    }

    @Test("a retried job holds its replace key again: a later SUBMIT with the key supersedes it")
    func retriedJobTakesItsKey() throws {
        var harness = cancelledJob()
        #expect(harness.driver.core.replaceJobs.isEmpty)
        #expect(try retryJobOne(&harness, 3) == "queued")
        #expect(harness.driver.core.replaceJobs == ["k": 1])
        harness.message(client1, ReplaceKeyTests.submit(4, replace: "k"))
        #expect(harness.commit().acceptedJobs.map(\.job) == [2])
        #expect(harness.stored[1]?.state == .cancelled)
        #expect(harness.stored[1]?.lastError == "superseded by job 2")
        #expect(harness.ready(worker1).jobAttempts.map(\.job) == [2], "only the later job runs")
    }

    @Test("a job whose replace key another unfinished job holds is not retried; once that job has finished, it is")
    func keyHeldByAnother() throws {
        var harness = cancelledJob()
        harness.message(client1, ReplaceKeyTests.submit(4, replace: "k"))
        harness.commit()
        #expect(try retryJobOne(&harness, 5) == "cancelled", "answered with its record, unchanged")
        #expect(harness.stored[1]?.state == .cancelled)
        #expect(harness.driver.core.replaceJobs == ["k": 2])
        var actions = harness.ready(worker1)
        #expect(actions.jobAttempts.map(\.job) == [2], "only the job holding the key runs")
        actions = harness.runAttempts(actions.jobAttempts, on: worker1)
        #expect(harness.driver.core.replaceJobs.isEmpty)
        #expect(try retryJobOne(&harness, 6) == "queued")
        #expect(harness.driver.core.replaceJobs == ["k": 1])
    }
}
