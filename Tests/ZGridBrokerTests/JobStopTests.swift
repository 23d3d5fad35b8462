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

@Suite("Job attempts cut short by stops, counted")
struct AttemptCountAtStopTests {
    @Test("attempts cut short by stops, while stopping or left running, never count: at most the maximum, error cleared on success")
    func repeatedStopsDoNotCount() throws {
        var record = JobRecord(id: 1, function: "f", payload: [7], state: .queued, createdAt: 1_700_000_000_000)
        record.maxAttempts = 3
        // Five starts of the broker: the attempt of each but the last cut short by its stop, as a
        // worker forced out while it stops (odd starts) or left running (even ones).
        for start in 1...5 {
            var harness = JobHarness(options: testOptions(grace: 60_000), recovering: [record])
            let attempt = try #require(harness.ready(worker1).jobAttempts.first, "start \(start)")
            #expect(harness.driver.core.jobs[1]?.record.attempts == 1, "start \(start): the attempt that runs is the first")
            harness.commit()
            if start == 5 {
                var actions = harness.message(worker1, .reply(dispatchID: attempt.dispatchID, payload: harness.driver.payload()))
                actions += harness.commit()
                let final = try #require(actions.finishedJobs.first?.record)
                #expect(final.state == .succeeded)
                #expect(final.attempts == 1)
                #expect(final.lastError == nil, "a success leaves no error of an earlier attempt")
                return
            }
            if start % 2 == 1 {
                var ignored: [BrokerAction] = []
                harness.driver.core.refuseNewWork(now: harness.driver.now, into: &ignored)
                harness.message(worker1, .disconnect)
                harness.workerError(attempt.dispatchID, .shuttingDown)
                harness.commit()
                #expect(harness.stored[1]?.state == .queued, "start \(start)")
                #expect(harness.stored[1]?.attempts == 0, "start \(start): the attempt cut short does not count")
            } else {
                #expect(harness.stored[1]?.state == .running, "start \(start)")
            }
            record = try #require(harness.stored[1])
            #expect(record.attempts <= record.maxAttempts, "start \(start): \(record.attempts)/\(record.maxAttempts)")
        }
    }

    @Test("a job that failed an attempt and then succeeds has no last error")
    func successClearsTheError() throws {
        var harness = JobHarness(options: testOptions(grace: 60_000))
        harness.ready(worker1)
        harness.submit(client1, 1, spec: JobSpec(maxAttempts: 2))
        let first = try #require(harness.commit().jobAttempts.first)
        harness.message(worker1, .failure(dispatchID: first.dispatchID, code: .handlerError, message: "boom"))
        harness.commit()
        #expect(harness.stored[1]?.lastError != nil)
        var second: (dispatchID: UInt64, job: Int64)?
        for _ in 0..<200 where second == nil { second = harness.tick(after: 100).jobAttempts.first }
        let attempt = try #require(second)
        harness.message(worker1, .reply(dispatchID: attempt.dispatchID, payload: harness.driver.payload()))
        harness.commit()
        #expect(harness.stored[1]?.state == .succeeded)
        #expect(harness.stored[1]?.attempts == 2)
        #expect(harness.stored[1]?.lastError == nil)
    }
}

extension JobHarness {
    /// ERROR from `worker1` for `dispatchID` with `code`.
    @discardableResult
    mutating func workerError(_ dispatchID: UInt64, _ code: ErrorCode) -> [BrokerAction] {
        message(worker1, .failure(dispatchID: dispatchID, code: code, message: "the worker was stopped by force"))
    }
}
