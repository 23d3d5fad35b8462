import Testing
import ZGridProtocol

@testable import ZGridBroker

@Suite("While new work is refused, calls queued without a worker fail at once as shutting down")
struct RefuseNewWorkTests {
    @Test func queuedCallFailsWhenTheLastWorkerLeavesWhileRefusing() throws {
        var driver = Driver(options: testOptions(grace: 60_000))
        driver.ready(worker1, concurrency: 1)
        let running = try #require(driver.call(client1, 1).requests.first)
        #expect(driver.call(client1, 2).isEmpty, "queued: the worker's credit is taken")
        var actions: [BrokerAction] = []
        driver.core.refuseNewWork(now: driver.now, into: &actions)
        #expect(actions.failures.isEmpty, "a worker still serves the function")

        let leaving = driver.disconnect(worker1)
        #expect(leaving.failures == [SentFailure(client: client1, requestID: 2, code: .shuttingDown)])
        #expect(driver.reply(worker1, running.dispatchID).replies.map(\.requestID) == [1], "the running call still finishes")
        #expect(driver.core.callsInFlight == 0)
    }

    @Test func queuedCallWithoutWorkerFailsWhenRefusingStarts() throws {
        var driver = Driver(options: testOptions(grace: 60_000))
        driver.ready(worker1, concurrency: 1)
        _ = try #require(driver.call(client1, 1).requests.first)
        #expect(driver.call(client1, 2).isEmpty)
        _ = driver.disconnect(worker1)
        #expect(driver.tick(after: 1000).failures.isEmpty, "within the grace period the call waits for a worker")

        var actions: [BrokerAction] = []
        driver.core.refuseNewWork(now: driver.now, into: &actions)
        #expect(actions.failures == [SentFailure(client: client1, requestID: 2, code: .shuttingDown)])
    }

    @Test func runningCallOfAWorkerLostWhileRefusingFailsAsShuttingDown() throws {
        var driver = Driver(options: testOptions(grace: 60_000))
        driver.ready(worker1, concurrency: 1)
        _ = try #require(driver.call(client1, 1).requests.first)
        var actions: [BrokerAction] = []
        driver.core.refuseNewWork(now: driver.now, into: &actions)
        // Its supervisor killed it at the end of the grace: its connection is found closed.
        let lost = driver.send(.connectionClosed(from: worker1))
        #expect(lost.workersLeft.map(\.worker) == [worker1])
        #expect(lost.failures == [SentFailure(client: client1, requestID: 1, code: .shuttingDown)])
        #expect(driver.core.callsInFlight == 0)
    }
}
