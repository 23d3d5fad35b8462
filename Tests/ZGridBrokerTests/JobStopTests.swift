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
        #expect(actions.finishedJobs.map(\.record.id) == [1])
        actions += harness.commit()
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
