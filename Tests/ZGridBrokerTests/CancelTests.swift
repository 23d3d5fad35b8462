import Testing
import ZGridProtocol

@testable import ZGridBroker

@Suite struct CancelTests {
    @Test func cancelOfAQueuedCallReleasesItAndItIsNeverDispatched() throws {
        var driver = Driver()
        driver.ready(worker1)
        let running = try #require(driver.call(client1, 1).requests.first)
        let cancelled = driver.payload()
        driver.call(client1, 2, payload: cancelled)
        let next = driver.payload()
        driver.call(client1, 3, payload: next)

        let actions = driver.cancel(client1, 2)
        #expect(actions == [.release(cancelled)])
        #expect(driver.core.statistics.callsCancelled == 1)
        #expect(driver.core.queuedCallCount == 1)

        var dispatched: [PayloadHandle] = []
        var pending = [running.dispatchID]
        while let id = pending.popLast() {
            let requests = driver.reply(worker1, id).requests
            dispatched += requests.map(\.payload)
            pending += requests.map(\.dispatchID)
        }
        #expect(dispatched == [next])
        #expect(driver.core.callsInFlight == 0)
    }

    @Test func cancelOfARunningCallIsSentToTheWorker() throws {
        var driver = Driver()
        driver.ready(worker1)
        let running = try #require(driver.call(client1, 1).requests.first)
        let actions = driver.cancel(client1, 1)
        #expect(actions == [.cancel(worker: worker1, dispatchID: running.dispatchID)])
        #expect(driver.core.callsInFlight == 0)
        // The worker's credit stays used until it answers.
        #expect(driver.core.inFlightCount(of: worker1) == 1)
        #expect(driver.call(client1, 2).isEmpty)
        let late = driver.payload()
        let answered = driver.reply(worker1, running.dispatchID, payload: late)
        #expect(answered.releases == [late])
        #expect(answered.replies.isEmpty)
        #expect(answered.requests.count == 1)
    }

    @Test func cancelOfARunningIdempotentCallReleasesTheKeptPayload() throws {
        var driver = Driver()
        driver.ready(worker1)
        let payload = driver.payload()
        let running = try #require(driver.call(client1, 1, payload: payload, idempotent: true).requests.first)
        let actions = driver.cancel(client1, 1)
        #expect(actions.cancels.map(\.dispatchID) == [running.dispatchID])
        #expect(actions.releases == [payload])
    }

    @Test func cancelledCallNeverTimesOut() {
        var driver = Driver(options: testOptions(grace: 60_000))
        driver.call(client1, 1, timeout: 100)
        driver.cancel(client1, 1)
        let actions = driver.tick(at: 500)
        #expect(actions.failures.isEmpty)
        #expect(actions.releases.isEmpty)
    }

    @Test func cancelOnlyAffectsTheNamedClientsCall() throws {
        var driver = Driver()
        driver.ready(worker1, concurrency: 2)
        let mine = try #require(driver.call(client1, 1).requests.first)
        let theirs = try #require(driver.call(client2, 1).requests.first)
        #expect(driver.cancel(client2, 1).cancels.map(\.dispatchID) == [theirs.dispatchID])
        #expect(driver.cancel(client2, 1).isEmpty)
        #expect(driver.reply(worker1, mine.dispatchID).replies.map(\.client) == [client1])
    }
}
