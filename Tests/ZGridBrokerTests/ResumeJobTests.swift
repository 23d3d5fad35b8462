import Testing
import ZGridJobStore
import ZGridProtocol

@testable import ZGridBroker

@Suite("Job attempts when a worker resumes its session")
struct ResumeJobTests {
    @Test("attempts the resuming worker did not list are queued again uncounted, not dead-lettered, and run on its new session")
    func unlistedAttemptsRunAgain() throws {
        var harness = JobHarness(options: testOptions(interval: 1000, liveness: 3, timeout: 60_000, grace: 60_000))
        harness.ready(worker1, concurrency: 4)
        harness.submit(client1, 1, spec: JobSpec(maxAttempts: 1))
        harness.submit(client1, 2, spec: JobSpec(maxAttempts: 1))
        let attempts = harness.commit().jobAttempts
        #expect(attempts.map(\.job).sorted() == [1, 2])
        let kept = try #require(attempts.first { $0.job == 1 })
        // The broker stalled; the worker still runs job 1, and job 2's REQUEST never reached it.
        var actions = harness.message(
            worker2,
            .ready(
                concurrency: 4, functions: [ServiceDescriptor(name: "f")],
                resume: SessionResume(previous: worker1, running: [kept.dispatchID]), key: nil))
        actions += harness.commit()
        #expect(actions.finishedJobs.isEmpty, "finished: \(actions.finishedJobs.map { ($0.record.id, $0.record.state) })")
        #expect(harness.driver.core.statistics.jobsDead == 0)
        #expect(harness.stored[2]?.lastError == BrokerCore.attemptLostAtResumeError)
        // Job 2 runs again on the new session, under the same attempt number.
        let again = try #require(actions.jobAttempts.first { $0.job == 2 })
        #expect(again.dispatchID != kept.dispatchID)
        #expect(harness.stored[2]?.state == .running)
        #expect(harness.stored[2]?.attempts == 1)
        // Both finish there.
        actions = harness.message(worker2, .reply(dispatchID: kept.dispatchID, payload: harness.driver.payload()))
        actions += harness.message(worker2, .reply(dispatchID: again.dispatchID, payload: harness.driver.payload()))
        actions += harness.commit()
        #expect(Set(actions.finishedJobs.map(\.record.id)) == [1, 2])
        #expect(actions.finishedJobs.allSatisfy { $0.record.state == .succeeded })
    }

    @Test("a worker lost without resuming still uses up the attempt: with none left the job is dead")
    func lostWithoutResumeCounts() throws {
        var harness = JobHarness(options: testOptions(interval: 1000, liveness: 3, timeout: 60_000, grace: 60_000))
        harness.ready(worker1)
        harness.submit(client1, 1, spec: JobSpec(maxAttempts: 1))
        #expect(harness.commit().jobAttempts.count == 1)
        var actions = harness.tick(after: 10_000)
        actions += harness.commit()
        #expect(actions.finishedJobs.map(\.record.state) == [.dead])
    }
}
