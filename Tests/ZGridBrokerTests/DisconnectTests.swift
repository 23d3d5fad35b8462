import Testing
import ZGridProtocol

@testable import ZGridBroker

@Suite("A worker's DISCONNECT is acknowledged after the requests sent to it")
struct DrainAcknowledgementTests {
    @Test func registeredWorkersDisconnectIsAcknowledgedAfterItsRequests() throws {
        var driver = Driver()
        driver.ready(worker1, concurrency: 2)
        let sent = try #require(driver.call(client1, 1).requests.first)
        let actions = driver.disconnect(worker1)
        #expect(actions.first == .acknowledgeDrain(worker1))
        #expect(driver.call(client1, 2).requests.isEmpty, "no new work after the DISCONNECT")
        #expect(driver.reply(worker1, sent.dispatchID).replies.map(\.requestID) == [1])
    }

    @Test func unknownWorkersDisconnectIsIgnored() {
        var driver = Driver()
        #expect(driver.disconnect(worker1).isEmpty)
    }
}

@Suite struct DisconnectTests {
    @Test func disconnectingWorkerGetsNoNewWorkButFinishesItsCalls() throws {
        var driver = Driver(options: testOptions(grace: 60_000))
        driver.ready(worker1, concurrency: 2)
        let first = try #require(driver.call(client1, 1).requests.first)
        let second = try #require(driver.call(client2, 2).requests.first)

        #expect(driver.disconnect(worker1) == [.acknowledgeDrain(worker1)])
        #expect(driver.core.workerCount == 1)
        #expect(driver.core.servedFunctions.isEmpty)
        // New calls wait instead of going to the draining worker.
        let waiting = driver.payload()
        #expect(driver.call(client1, 3, payload: waiting).isEmpty)

        let answer = driver.payload()
        let replied = driver.reply(worker1, first.dispatchID, payload: answer)
        #expect(replied == [.reply(client: client1, requestID: 1, payload: answer)])
        #expect(driver.core.workerCount == 1)

        let last = driver.workerError(worker1, second.dispatchID)
        #expect(last.failures == [SentFailure(client: client2, requestID: 2, code: .handlerError)])
        #expect(last.notices == [.workerLeft(worker1, reason: "disconnected", inFlight: 0)])
        #expect(last.requests.isEmpty)
        #expect(driver.core.workerCount == 0)
        #expect(driver.core.statistics.workersLost == 0)

        // The waiting call goes to the next worker.
        #expect(driver.ready(worker2).requests.map(\.payload) == [waiting])
    }

    @Test func idleWorkerIsRemovedAtOnce() {
        var driver = Driver()
        driver.ready(worker1)
        let actions = driver.disconnect(worker1)
        #expect(actions.notices == [.workerLeft(worker1, reason: "disconnected", inFlight: 0)])
        #expect(driver.core.workerCount == 0)
        #expect(driver.core.inFlightCount(of: worker1) == nil)
    }

    @Test func otherWorkersTakeOverNewCalls() throws {
        var driver = Driver()
        driver.ready(worker1, concurrency: 4)
        driver.ready(worker2, concurrency: 4)
        let running = try #require(driver.call(client1, 1).requests.first)
        let draining = running.worker
        let other = draining == worker1 ? worker2 : worker1
        driver.disconnect(draining)
        let requests = (2...5).flatMap { driver.call(client1, UInt64($0)).requests }
        #expect(requests.allSatisfy { $0.worker == other })
        #expect(requests.count == 4)
        #expect(driver.reply(draining, running.dispatchID).replies.map(\.requestID) == [1])
    }

    @Test func disconnectFromUnknownWorkerIsIgnored() {
        var driver = Driver()
        #expect(driver.disconnect(worker1).isEmpty)
        #expect(driver.core.statistics.protocolViolations == 0)
    }

    @Test func drainingWorkerThatGoesSilentIsLost() throws {
        var driver = Driver(options: testOptions(interval: 1000, liveness: 3))
        driver.ready(worker1)
        driver.call(client1, 1)
        driver.disconnect(worker1)
        var actions: [BrokerAction] = []
        for time in stride(from: Int64(1000), through: 4000, by: 1000) {
            driver.heartbeat(client: client1)
            actions += driver.tick(at: time)
        }
        #expect(actions.workersLeft.map(\.worker) == [worker1])
        #expect(actions.failures.map(\.code) == [.workerLost])
        #expect(driver.core.workerCount == 0)
    }

    @Test func drainingWorkerIsNotRetriedOnForIdempotentCalls() throws {
        var driver = Driver()
        driver.ready(worker1)
        let payload = driver.payload()
        let request = try #require(driver.call(client1, 1, payload: payload, idempotent: true).requests.first)
        driver.disconnect(worker1)
        let answer = driver.payload()
        let actions = driver.reply(worker1, request.dispatchID, payload: answer)
        #expect(actions.replies == [SentReply(client: client1, requestID: 1, payload: answer)])
        #expect(actions.releases == [payload])
    }
}
