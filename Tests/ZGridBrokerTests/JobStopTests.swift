import Testing
import ZGridJobStore
import ZGridProtocol

@testable import ZGridBroker

@Suite("Jobs during a graceful stop")
struct JobStopTests {
    @Test("once the broker is stopping no job attempt starts: not on credit, commit, tick or a new worker")
    func noAttemptStarts() throws {
        var harness = JobHarness(options: testOptions(grace: 60_000))
        harness.ready(worker1)
        harness.submit(client1, 1)
        harness.submit(client1, 2)
        let running = try #require(harness.commit().jobAttempts.first)
        #expect(running.job == 1)
        harness.driver.core.stopStartingJobs()
        // The running attempt finishes; its worker's credit starts nothing.
        var actions = harness.message(worker1, .reply(dispatchID: running.dispatchID, payload: harness.driver.payload()))
        actions += harness.commit()
        #expect(actions.finishedJobs.map(\.record.id) == [1])
        harness.submit(client1, 3)
        actions += harness.commit()
        actions += harness.ready(worker2)
        harness.message(worker1, .workerHeartbeat)
        actions += harness.tick(after: 1_000)
        #expect(actions.jobAttempts.isEmpty)
        #expect(actions.acceptedJobs.map(\.requestID) == [3], "SUBMITs that reached the core are still committed")
        #expect(harness.stored[2]?.state == .queued)
        #expect(harness.stored[3]?.state == .queued)
        #expect(harness.driver.core.callsInFlight == 0, "nothing keeps the stop waiting")
    }
}

@Suite("Job attempts cut short by a stop")
struct AttemptCutShortTests {
    /// A harness whose worker runs job 1 (one attempt allowed), committed.
    private func runningJob() throws -> (harness: JobHarness, dispatchID: UInt64) {
        var harness = JobHarness(options: testOptions(grace: 60_000))
        harness.ready(worker1)
        harness.submit(client1, 1, spec: JobSpec(maxAttempts: 1))
        let running = try #require(harness.commit().jobAttempts.first)
        return (harness, running.dispatchID)
    }

    @Test("a worker forced out while the broker refuses new work: its attempt is queued again, not dead-lettered")
    func forcedOutWhileStopping() throws {
        var (harness, dispatchID) = try runningJob()
        var ignored: [BrokerAction] = []
        harness.driver.core.refuseNewWork(now: harness.driver.now, into: &ignored)
        // As `zgrid worker` does on SIGTERM: DISCONNECT (drain), then, forced out, the failure.
        harness.message(worker1, .disconnect)
        let actions = harness.workerError(dispatchID, .shuttingDown)
        #expect(actions.finishedJobs.isEmpty, "the job was finished: \(actions.finishedJobs.map(\.record.state))")
        #expect(harness.stored[1]?.state == .queued)
        #expect(harness.stored[1]?.lastError == "the broker stopped while this attempt ran")
        #expect(harness.driver.core.statistics.jobsDead == 0)
        #expect(harness.driver.core.statistics.jobsRetried == 0)
    }

    @Test("a worker lost while the broker refuses new work: its attempt is queued again, not dead-lettered")
    func lostWhileStopping() throws {
        var (harness, _) = try runningJob()
        var ignored: [BrokerAction] = []
        harness.driver.core.refuseNewWork(now: harness.driver.now, into: &ignored)
        let actions = harness.tick(after: 10_000)
        #expect(actions.finishedJobs.isEmpty, "the job was finished: \(actions.finishedJobs.map(\.record.state))")
        #expect(harness.stored[1]?.state == .queued)
        #expect(harness.driver.core.statistics.jobsDead == 0)
    }

    @Test("while the broker runs on, a forced-out worker's attempt counts: with none left the job is dead")
    func forcedOutWhileRunning() throws {
        var (harness, dispatchID) = try runningJob()
        harness.message(worker1, .disconnect)
        var actions = harness.workerError(dispatchID, .shuttingDown)
        actions += harness.commit()
        #expect(actions.finishedJobs.map(\.record.state) == [.dead])
        #expect(harness.stored[1]?.state == .dead)
    }
}

extension JobHarness {
    /// ERROR from `worker1` for `dispatchID` with `code`.
    @discardableResult
    mutating func workerError(_ dispatchID: UInt64, _ code: ErrorCode) -> [BrokerAction] {
        message(worker1, .failure(dispatchID: dispatchID, code: code, message: "the worker was stopped by force"))
    }
}
