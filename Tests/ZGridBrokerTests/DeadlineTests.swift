import Testing
import ZGridProtocol

@testable import ZGridBroker

@Suite struct DeadlineTests {
    @Test func queuedCallPastItsDeadlineFailsWithTimeoutAtTick() throws {
        var driver = Driver()
        driver.ready(worker1)
        let running = try #require(driver.call(client1, 1, timeout: 10_000).requests.first)
        let payload = driver.payload()
        driver.call(client2, 2, payload: payload, timeout: 300)

        #expect(driver.core.nextWakeup == 300)
        #expect(driver.tick(at: 299).failures.isEmpty)
        let actions = driver.tick(at: 300)
        #expect(actions.failures == [SentFailure(client: client2, requestID: 2, code: .timeout)])
        #expect(actions.releases == [payload])
        #expect(actions.cancels.isEmpty)
        #expect(driver.core.queuedCallCount == 0)
        #expect(driver.core.statistics.callsFailed == 1)

        // The expired call is never dispatched.
        let after = driver.reply(worker1, running.dispatchID)
        #expect(after.requests.isEmpty)
        #expect(after.replies.map(\.requestID) == [1])
    }

    @Test func defaultTimeoutAppliesWhenTheCallNamesNone() {
        var driver = Driver(options: testOptions(interval: 100_000, timeout: 700, grace: 100_000))
        driver.call(client1, 1, "f")
        #expect(driver.core.nextWakeup == 700)
        #expect(driver.tick(at: 699).failures.isEmpty)
        // No worker serves "f": the failure at the deadline says so rather than "timeout".
        #expect(driver.tick(at: 700).failures.map(\.code) == [.unknownFunction])
    }

    @Test func runningCallPastItsDeadlineFailsAndIsCancelledOnTheWorker() throws {
        var driver = Driver()
        driver.ready(worker1)
        let request = try #require(driver.call(client1, 5, timeout: 500).requests.first)
        #expect(request.consume)

        let actions = driver.tick(at: 500)
        #expect(actions.failures == [SentFailure(client: client1, requestID: 5, code: .timeout)])
        #expect(actions.cancels.map(\.worker) == [worker1])
        #expect(actions.cancels.map(\.dispatchID) == [request.dispatchID])
        // The payload was given to the worker; nothing left to release.
        #expect(actions.releases.isEmpty)
        #expect(driver.core.callsInFlight == 0)
    }

    @Test func workerCreditStaysUsedUntilItAnswersATimedOutCall() throws {
        var driver = Driver()
        driver.ready(worker1, concurrency: 1)
        let request = try #require(driver.call(client1, 1, timeout: 500).requests.first)
        driver.heartbeat(worker: worker1)
        driver.tick(at: 500)
        #expect(driver.core.inFlightCount(of: worker1) == 1)

        // A new call must wait: the worker may still be running the timed-out one.
        let waiting = driver.payload()
        #expect(driver.call(client1, 2, payload: waiting).isEmpty)
        #expect(driver.core.queuedCallCount == 1)

        // The late reply is released, not forwarded, and the credit goes to the waiting call.
        let late = driver.payload()
        let actions = driver.reply(worker1, request.dispatchID, payload: late)
        #expect(actions.replies.isEmpty)
        #expect(actions.releases == [late])
        #expect(actions.requests.map(\.payload) == [waiting])
        #expect(actions.protocolViolations.isEmpty)
        #expect(driver.core.statistics.protocolViolations == 0)
    }

    @Test func lateErrorForATimedOutCallIsDropped() throws {
        var driver = Driver()
        driver.ready(worker1)
        let request = try #require(driver.call(client1, 1, timeout: 500).requests.first)
        driver.tick(at: 600)
        let actions = driver.workerError(worker1, request.dispatchID)
        #expect(actions.isEmpty)
        #expect(driver.core.inFlightCount(of: worker1) == 0)
    }

    @Test func idempotentRunningCallReleasesItsKeptPayloadOnTimeout() throws {
        var driver = Driver()
        driver.ready(worker1)
        let payload = driver.payload()
        let request = try #require(driver.call(client1, 1, payload: payload, idempotent: true, timeout: 500).requests.first)
        #expect(request.consume == false)
        let actions = driver.tick(at: 500)
        #expect(actions.releases == [payload])
        #expect(actions.failures.map(\.code) == [.timeout])
        #expect(actions.cancels.count == 1)
    }

    @Test func answeredCallDoesNotTimeOutLater() throws {
        var driver = Driver()
        driver.ready(worker1)
        let request = try #require(driver.call(client1, 1, timeout: 500).requests.first)
        driver.reply(worker1, request.dispatchID)
        let actions = driver.tick(at: 1000)
        #expect(actions.failures.isEmpty)
        #expect(actions.cancels.isEmpty)
    }

    @Test func deadlinesExpireInOrderWithinOneTick() {
        var driver = Driver(options: testOptions(interval: 100_000, grace: 100_000))
        driver.call(client1, 1, timeout: 300)
        driver.call(client1, 2, timeout: 100)
        driver.call(client1, 3, timeout: 200)
        driver.call(client1, 4, timeout: 900)
        #expect(driver.core.nextWakeup == 100)
        let actions = driver.tick(at: 350)
        #expect(actions.failures.map(\.requestID) == [2, 3, 1])
        #expect(driver.core.callsInFlight == 1)
        #expect(driver.core.nextWakeup == 900)
    }
}

@Suite struct DeadlineHeapTests {
    @Test("entries of answered calls do not pile up in the deadline heap, and a call still running keeps its deadline")
    func answeredCallsAreCompactedAway() throws {
        var driver = Driver()
        driver.ready(worker1, concurrency: 10)
        let longRunning = try #require(driver.call(client2, 1, timeout: 500).requests.first)
        for requestID in UInt64(2)...20_001 {
            let request = try #require(driver.call(client1, requestID, timeout: 60_000).requests.first)
            #expect(driver.reply(worker1, request.dispatchID).replies.map(\.requestID) == [requestID])
        }
        #expect(driver.core.callsInFlight == 1)
        #expect(driver.core.deadlines.count <= 2 * 1 + BrokerCore.deadlineSlack + 1, "the heap was rebuilt from the live calls")
        let actions = driver.tick(at: 500)
        #expect(actions.failures == [SentFailure(client: client2, requestID: 1, code: .timeout)])
        #expect(actions.cancels.map(\.dispatchID) == [longRunning.dispatchID])
    }

    @Test func delayedJobWakesTheCoreAtItsRunAtNotAtTheNextHeartbeat() {
        var harness = JobHarness(options: testOptions(interval: 60_000, grace: 60_000))
        harness.submit(client1, 1, spec: JobSpec(runAt: harness.driver.core.wallNow + 5_000))
        harness.commit()
        #expect(harness.driver.core.nextWakeup == 5_000)
        harness.tick(after: 4_999)
        #expect(harness.driver.core.jobs[1]?.record.state == .scheduled)
        #expect(harness.driver.core.nextWakeup == 5_000)
        harness.tick(after: 1)
        #expect(harness.driver.core.jobs[1]?.record.state == .queued)
    }
}
