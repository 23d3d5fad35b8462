import Testing
import ZGridProtocol

@testable import ZGridBroker

@Suite struct UnknownFunctionTests {
    /// Grace 5 s, heartbeats every second; long liveness so nobody is dropped as silent.
    let options = testOptions(interval: 1000, liveness: 100, grace: 5000)

    @Test func callRightAfterStartWaitsThroughTheGracePeriodThenFails() {
        var driver = Driver(options: options, now: 10_000)
        let payload = driver.payload()
        #expect(driver.call(client1, 1, "nobody", payload: payload).isEmpty)
        #expect(driver.core.queuedCallCount == 1)

        // Still within grace: nothing happens.
        for time in stride(from: Int64(11_000), through: 14_000, by: 1000) {
            #expect(driver.tick(at: time).failures.isEmpty)
        }
        #expect(driver.core.queuedCallCount == 1)

        let actions = driver.tick(at: 15_000)
        #expect(actions.failures == [SentFailure(client: client1, requestID: 1, code: .unknownFunction)])
        #expect(actions.releases == [payload])
        #expect(driver.core.callsInFlight == 0)
    }

    @Test func afterTheGracePeriodCallsFailImmediately() {
        var driver = Driver(options: options, now: 10_000)
        driver.now = 15_000
        let payload = driver.payload()
        let actions = driver.call(client1, 1, "nobody", payload: payload)
        #expect(actions.failures == [SentFailure(client: client1, requestID: 1, code: .unknownFunction)])
        #expect(actions.releases == [payload])
        #expect(driver.core.callsInFlight == 0)

        // Just before the end of grace the call still waits.
        var early = Driver(options: options, now: 10_000)
        early.now = 14_999
        #expect(early.call(client1, 1, "nobody").isEmpty)
    }

    @Test func callWaitingForAFunctionIsDispatchedWhenItsWorkerArrivesInGrace() throws {
        var driver = Driver(options: options)
        let payload = driver.payload()
        driver.call(client1, 1, "late", payload: payload)
        driver.tick(at: 3000)
        let actions = driver.ready(worker1, ["late"])
        let request = try #require(actions.requests.first)
        #expect(request.payload == payload)
        #expect(request.function == "late")
        #expect(driver.tick(at: 6000).failures.isEmpty)
        #expect(driver.reply(worker1, request.dispatchID).replies.map(\.requestID) == [1])
    }

    @Test func functionWhoseLastWorkerLeftGetsAFreshGracePeriod() throws {
        var driver = Driver(options: options)
        driver.now = 20_000
        driver.ready(worker1)
        driver.disconnect(worker1)
        #expect(driver.core.workerCount == 0)
        driver.now = 21_000
        #expect(driver.call(client1, 1).isEmpty)
        #expect(driver.tick(at: 24_000).failures.isEmpty)
        #expect(driver.tick(at: 25_000).failures.map(\.code) == [.unknownFunction])
        driver.now = 25_500
        #expect(driver.call(client1, 2).failures.map(\.code) == [.unknownFunction])
    }

    /// The core remembers the service record of the last call's function; a record dropped after
    /// its grace and made again for a new worker must not be taken from that memory.
    @Test func callAfterTheFunctionsRecordWasMadeAgainGoesToTheNewWorker() throws {
        var driver = Driver(options: options)
        driver.ready(worker1)
        let first = try #require(driver.call(client1, 1).requests.first)
        #expect(first.worker == worker1)
        driver.reply(worker1, first.dispatchID)
        driver.disconnect(worker1)
        driver.now = 1000
        #expect(driver.call(client1, 2).isEmpty)  // queued: no worker, within grace
        #expect(driver.tick(at: 6000).failures.map(\.requestID) == [2])  // grace over: failed, record dropped
        driver.heartbeat(client: client1)
        driver.ready(worker2)
        let third = try #require(driver.call(client1, 3).requests.first)
        #expect(third.worker == worker2)
    }

    @Test func servedFunctionDoesNotFailWhileItsWorkersAreBusy() {
        var driver = Driver(options: options)
        driver.ready(worker1)
        driver.call(client1, 1)
        driver.call(client1, 2)
        driver.heartbeat(client: client1)
        for time in stride(from: Int64(1000), through: 20_000, by: 1000) {
            driver.heartbeat(worker: worker1)
            #expect(driver.tick(at: time).failures.isEmpty)
        }
        #expect(driver.core.queuedCallCount == 1)
    }
}
