import Testing
import ZGridProtocol

@testable import ZGridBroker

@Suite struct WorkerLossTests {
    /// Expiry 3000 ms; calls live long enough to outlast it.
    let options = testOptions(interval: 1000, liveness: 3, timeout: 60_000, grace: 60_000)

    /// Lets `time` pass in one-second ticks while `alive` workers and all clients keep beating.
    func pass(_ driver: inout Driver, until time: Int64, alive: [PeerID], clients: [PeerID] = [client1, client2]) -> [BrokerAction] {
        var actions: [BrokerAction] = []
        while driver.now < time {
            driver.now = min(time, driver.now + 1000)
            for worker in alive { driver.heartbeat(worker: worker) }
            for client in clients { driver.heartbeat(client: client) }
            actions += driver.tick()
        }
        return actions
    }

    @Test func nonIdempotentCallsOfALostWorkerFailWithWorkerLost() throws {
        var driver = Driver(options: options)
        driver.ready(worker1, concurrency: 2)
        driver.call(client1, 1)
        driver.call(client2, 2)
        #expect(driver.core.inFlightCount(of: worker1) == 2)

        let actions = pass(&driver, until: 4000, alive: [])
        #expect(actions.workersLeft.map(\.worker) == [worker1])
        #expect(actions.notices.contains(.workerLeft(worker1, reason: "silent for 3000 ms", inFlight: 2)))
        #expect(Set(actions.failures.map(\.requestID)) == [1, 2])
        #expect(actions.failures.allSatisfy { $0.code == .workerLost })
        #expect(actions.releases.isEmpty)
        #expect(driver.core.callsInFlight == 0)
        #expect(driver.core.statistics.callsRetried == 0)
    }

    @Test func idempotentCallsAreRetriedOnAnotherWorker() throws {
        var driver = Driver(options: options)
        driver.ready(worker1)
        let payload = driver.payload()
        let first = try #require(driver.call(client1, 1, payload: payload, idempotent: true).requests.first)
        #expect(first.worker == worker1)
        #expect(first.header.attempt == 1)
        #expect(first.consume == false)
        driver.ready(worker2)

        let actions = pass(&driver, until: 4000, alive: [worker2])
        #expect(actions.workersLeft.map(\.worker) == [worker1])
        #expect(actions.failures.isEmpty)
        let retry = try #require(actions.requests.first)
        #expect(actions.requests.count == 1)
        #expect(retry.worker == worker2)
        #expect(retry.dispatchID == first.dispatchID)
        #expect(retry.payload == payload)
        #expect(retry.header.attempt == 2)
        #expect(retry.header.isIdempotent)
        #expect(retry.header.timeoutMilliseconds == 56_000)
        // The last allowed attempt gives the payload away.
        #expect(retry.consume)
        #expect(driver.core.statistics.callsRetried == 1)

        let answer = driver.payload()
        #expect(driver.reply(worker2, retry.dispatchID, payload: answer) == [.reply(client: client1, requestID: 1, payload: answer)])
    }

    @Test func secondLossFailsTheRetriedCall() throws {
        var driver = Driver(options: options)
        driver.ready(worker1)
        driver.call(client1, 1, idempotent: true)
        driver.ready(worker2)
        let firstLoss = pass(&driver, until: 4000, alive: [worker2])
        #expect(firstLoss.requests.map(\.worker) == [worker2])

        let secondLoss = pass(&driver, until: 8000, alive: [])
        #expect(secondLoss.workersLeft.map(\.worker) == [worker2])
        #expect(secondLoss.failures == [SentFailure(client: client1, requestID: 1, code: .workerLost)])
        // The payload went to worker 2 for good; nothing is released twice.
        #expect(secondLoss.releases.isEmpty)
        #expect(driver.core.callsInFlight == 0)
    }

    @Test func moreAttemptsKeepThePayloadUntilTheLast() throws {
        var driver = Driver(options: testOptions(interval: 1000, liveness: 3, timeout: 60_000, grace: 60_000, maxAttempts: 3))
        let payload = driver.payload()
        driver.ready(worker1)
        #expect(driver.call(client1, 1, payload: payload, idempotent: true).requests.map(\.consume) == [false])
        driver.ready(worker2)
        let second = pass(&driver, until: 4000, alive: [worker2]).requests
        #expect(second.map(\.header.attempt) == [2])
        #expect(second.map(\.consume) == [false])
        driver.ready(worker3)
        let third = pass(&driver, until: 8000, alive: [worker3]).requests
        #expect(third.map(\.header.attempt) == [3])
        #expect(third.map(\.consume) == [true])
        #expect(third.map(\.payload) == [payload])
    }

    @Test func retriedCallWaitsForAWorkerWhenNoneIsFree() throws {
        var driver = Driver(options: options)
        driver.ready(worker1)
        let payload = driver.payload()
        driver.call(client1, 1, payload: payload, idempotent: true)
        let lost = pass(&driver, until: 4000, alive: [])
        #expect(lost.failures.isEmpty)
        #expect(lost.releases.isEmpty)
        #expect(driver.core.queuedCallCount == 1)

        let actions = driver.ready(worker2)
        #expect(actions.requests.map(\.payload) == [payload])
        #expect(actions.requests.map(\.header.attempt) == [2])
        #expect(actions.requests.map(\.consume) == [true])
    }

    @Test func retriedCallsGoAheadOfCallsThatWereAlreadyQueued() throws {
        var driver = Driver(options: options)
        driver.ready(worker1)
        let retried = driver.payload()
        driver.call(client1, 1, payload: retried, idempotent: true)
        driver.ready(worker2)
        let blocker = try #require(driver.call(client1, 2).requests.first)
        #expect(blocker.worker == worker2)
        let queued = driver.payload()
        driver.call(client1, 3, payload: queued)

        _ = pass(&driver, until: 4000, alive: [worker2])
        let actions = driver.reply(worker2, blocker.dispatchID)
        #expect(actions.requests.map(\.payload) == [retried])
    }

    @Test func mixedCallsOfALostWorker() throws {
        var driver = Driver(options: options)
        driver.ready(worker1, concurrency: 3)
        let kept = driver.payload()
        driver.call(client1, 1, payload: kept, idempotent: true)
        driver.call(client1, 2)
        driver.call(client1, 3, idempotent: true)
        driver.ready(worker2, concurrency: 1)

        let actions = pass(&driver, until: 4000, alive: [worker2])
        #expect(actions.failures == [SentFailure(client: client1, requestID: 2, code: .workerLost)])
        // One retried call fits on worker 2, the other waits, oldest first.
        #expect(actions.requests.map(\.payload) == [kept])
        #expect(driver.core.queuedCallCount == 1)
        #expect(driver.core.statistics.callsRetried == 2)
    }

    @Test func lostWorkerMessagesAreAnsweredWithDisconnect() throws {
        var driver = Driver(options: options)
        driver.ready(worker1)
        let request = try #require(driver.call(client1, 1).requests.first)
        _ = pass(&driver, until: 4000, alive: [])
        let late = driver.payload()
        let actions = driver.reply(worker1, request.dispatchID, payload: late)
        #expect(actions == [.disconnectWorker(worker1), .release(late)])

        // It may register again and then gets work as before.
        driver.ready(worker1)
        #expect(driver.call(client1, 2).requests.map(\.worker) == [worker1])
    }
}
