import Testing
import ZGridProtocol

@testable import ZGridBroker

/// Clients are dropped after twice the workers' allowance of silence (interval × liveness × 2).
@Suite struct ClientExpiryTests {
    /// Worker expiry 2000 ms, so clients expire after 4000 ms; calls outlive that.
    let options = testOptions(interval: 1000, liveness: 2, timeout: 60_000, grace: 60_000)

    /// Ticks once a second up to `time` while the workers and `chatty` clients keep beating.
    func pass(_ driver: inout Driver, until time: Int64, workers: [PeerID] = [worker1], chatty: [PeerID]) -> [BrokerAction] {
        var actions: [BrokerAction] = []
        while driver.now < time {
            driver.now = min(time, driver.now + 1000)
            for worker in workers { driver.heartbeat(worker: worker) }
            for client in chatty { driver.heartbeat(client: client) }
            actions += driver.tick()
        }
        return actions
    }

    @Test func clientIsKeptUntilTwiceTheWorkerExpiry() {
        var driver = Driver(options: options)
        driver.ready(worker1)
        driver.call(client1, 1)
        #expect(pass(&driver, until: 4000, chatty: []).failures.isEmpty)
        #expect(driver.core.callsInFlight == 1)
        let actions = pass(&driver, until: 5000, chatty: [])
        #expect(actions.failures == [SentFailure(client: client1, requestID: 1, code: .clientExpired)])
        #expect(driver.core.callsInFlight == 0)
    }

    @Test func silentClientsRunningCallsAreCancelledAndQueuedOnesReleased() throws {
        var driver = Driver(options: options)
        driver.ready(worker1)
        let running = try #require(driver.call(client1, 1).requests.first)
        let queued = driver.payload()
        driver.call(client1, 2, payload: queued)
        let other = driver.payload()
        driver.call(client2, 3, payload: other)

        let actions = pass(&driver, until: 5000, chatty: [client2])
        #expect(actions.cancels.map(\.worker) == [worker1])
        #expect(actions.cancels.map(\.dispatchID) == [running.dispatchID])
        #expect(actions.releases == [queued])
        #expect(actions.failures.map(\.requestID) == [1, 2])
        #expect(actions.failures.allSatisfy { $0.client == client1 && $0.code == .clientExpired })
        #expect(actions.requests.isEmpty)
        #expect(driver.core.callsInFlight == 1)

        // The worker's credit stays used until it answers; the late reply is dropped and
        // client 2's call runs next.
        #expect(driver.core.inFlightCount(of: worker1) == 1)
        let late = driver.payload()
        let answered = driver.reply(worker1, running.dispatchID, payload: late)
        #expect(answered.releases == [late])
        #expect(answered.replies.isEmpty)
        #expect(answered.requests.map(\.payload) == [other])
    }

    @Test func silentClientsKeptPayloadIsReleased() throws {
        var driver = Driver(options: options)
        driver.ready(worker1)
        let payload = driver.payload()
        driver.call(client1, 1, payload: payload, idempotent: true)
        let actions = pass(&driver, until: 5000, chatty: [])
        #expect(actions.releases == [payload])
        #expect(actions.cancels.count == 1)
        #expect(actions.failures.map(\.code) == [.clientExpired])
    }

    @Test func anyClientMessageKeepsItAlive() throws {
        var driver = Driver(options: options)
        driver.ready(worker1, concurrency: 100)
        driver.call(client1, 1)
        var actions: [BrokerAction] = []
        for step in UInt64(2)...11 {
            driver.now += 1000
            driver.heartbeat(worker: worker1)
            // Alternate calls and cancels of a throwaway call; no heartbeats.
            if step.isMultiple(of: 2) { driver.call(client1, step) } else { driver.cancel(client1, step - 1) }
            actions += driver.tick()
        }
        #expect(actions.failures.isEmpty)
        #expect(driver.core.callsInFlight == 1)
    }

    @Test func expiredClientCanCallAgain() throws {
        var driver = Driver(options: options)
        driver.ready(worker1)
        let first = try #require(driver.call(client1, 1).requests.first)
        _ = pass(&driver, until: 5000, chatty: [])
        driver.reply(worker1, first.dispatchID)
        // Same request id: the old call is gone, so this is a new call, not a duplicate.
        let again = driver.call(client1, 1)
        #expect(again.requests.count == 1)
        #expect(again.protocolViolations.isEmpty)
    }
}
