import Testing
import ZGridProtocol

@testable import ZGridBroker

/// Workers that heartbeat only while idle (MDP workers written like the guide's mdwrkapi): not
/// expired while a call runs on them, expired as usual once none does.
@Suite struct QuietWorkerExpiryTests {
    /// Expiry 3000 ms; calls live long enough to outlast it unless they name a timeout.
    let options = testOptions(interval: 1000, liveness: 3, timeout: 60_000, grace: 60_000)

    /// Lets `time` pass in one-second ticks while `alive` workers and both clients keep beating.
    func pass(_ driver: inout Driver, until time: Int64, alive: [PeerID] = []) -> [BrokerAction] {
        var actions: [BrokerAction] = []
        while driver.now < time {
            driver.now = min(time, driver.now + 1000)
            for worker in alive { driver.heartbeat(worker: worker) }
            for client in [client1, client2] { driver.heartbeat(client: client) }
            actions += driver.tick()
        }
        return actions
    }

    @Test func aQuietWorkerRunningACallIsNotExpiredAndItsCallIsNotRunTwice() throws {
        var driver = Driver(options: options)
        driver.ready(worker1, heartbeats: .whileIdle)
        let request = try #require(driver.call(client1, 1, idempotent: true).requests.first)
        #expect(request.worker == worker1)
        driver.ready(worker2)  // a ZGW01 worker that would take a retry

        // Silent for 10 s, far past the expiry, while its call runs.
        let busy = pass(&driver, until: 10_000, alive: [worker2])
        #expect(busy.workersLeft.isEmpty)
        #expect(busy.requests.isEmpty, "the call must not run a second time")
        #expect(busy.failures.isEmpty)
        #expect(driver.core.statistics.workersLost == 0)
        #expect(driver.core.statistics.callsRetried == 0)

        let answer = driver.payload()
        #expect(
            driver.reply(worker1, request.dispatchID, payload: answer).replies == [
                SentReply(client: client1, requestID: 1, payload: answer)
            ])
        // Idle again: the usual expiry, counted from its REPLY.
        #expect(pass(&driver, until: 13_000, alive: [worker2]).workersLeft.isEmpty)
        let idle = pass(&driver, until: 14_000, alive: [worker2])
        #expect(idle.workersLeft.map(\.worker) == [worker1])
        #expect(idle.failures.isEmpty)
    }

    @Test func aDeadQuietWorkerIsDroppedOnceItsCallEndedByDeadline() throws {
        var driver = Driver(options: options)
        driver.ready(worker1, heartbeats: .whileIdle)
        let request = try #require(driver.call(client1, 1, timeout: 5000).requests.first)

        let running = pass(&driver, until: 4000)
        #expect(running.workersLeft.isEmpty)
        #expect(running.failures.isEmpty)

        // The deadline fails the call; the worker still holds its slot (MDP cannot cancel).
        let timedOut = pass(&driver, until: 5000)
        #expect(timedOut.failures == [SentFailure(client: client1, requestID: 1, code: .timeout)])
        #expect(timedOut.cancels.map(\.dispatchID) == [request.dispatchID])
        #expect(timedOut.workersLeft.isEmpty)
        #expect(driver.core.inFlightCount(of: worker1) == 1)

        // The expiry counts from the end of the call, not from its last message (at 0).
        #expect(pass(&driver, until: 8000).workersLeft.isEmpty)
        let lost = pass(&driver, until: 9000)
        #expect(lost.notices.contains(.workerLeft(worker1, reason: "silent for 3000 ms", inFlight: 1)))
        #expect(lost.failures.isEmpty, "its call already failed with TIMEOUT")
        #expect(driver.core.workerCount == 0)
        #expect(driver.core.statistics.workersLost == 1)
    }

    @Test func aCancelledCallStartsTheIdleExpiryOfItsQuietWorker() throws {
        var driver = Driver(options: options)
        driver.ready(worker1, heartbeats: .whileIdle)
        let request = try #require(driver.call(client1, 1).requests.first)
        _ = pass(&driver, until: 2000)
        #expect(driver.cancel(client1, 1).cancels.map(\.dispatchID) == [request.dispatchID])

        #expect(pass(&driver, until: 5000).workersLeft.isEmpty)
        #expect(pass(&driver, until: 6000).workersLeft.map(\.worker) == [worker1])
    }

    @Test func anIdleQuietWorkerExpiresAsAnyOther() {
        var driver = Driver(options: options)
        driver.ready(worker1, heartbeats: .whileIdle)
        #expect(pass(&driver, until: 3000).workersLeft.isEmpty)
        #expect(pass(&driver, until: 4000).workersLeft.map(\.worker) == [worker1])
    }

    @Test func aQuietWorkerThatSentDisconnectGetsNoAllowanceForItsRunningCall() {
        var driver = Driver(options: options)
        driver.ready(worker1, heartbeats: .whileIdle)
        driver.call(client1, 1)
        driver.disconnect(worker1)  // an MDP worker that leaves answers nothing more

        let actions = pass(&driver, until: 4000)
        #expect(actions.workersLeft.map(\.worker) == [worker1])
        #expect(actions.failures == [SentFailure(client: client1, requestID: 1, code: .workerLost)])
    }

    @Test func aWorkerThatHeartbeatsAlwaysIsStillLostWhenSilentWhileBusy() {
        var driver = Driver(options: options)
        driver.ready(worker1)
        driver.call(client1, 1)

        let actions = pass(&driver, until: 4000)
        #expect(actions.workersLeft.map(\.worker) == [worker1])
        #expect(actions.failures == [SentFailure(client: client1, requestID: 1, code: .workerLost)])
    }
}
