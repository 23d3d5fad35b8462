import Testing
import ZGridProtocol

@testable import ZGridBroker

@Suite struct ProtocolViolationTests {
    @Test func replyFromUnknownWorkerIsReleasedAndTheWorkerToldToRegister() {
        var driver = Driver()
        let payload = driver.payload()
        let actions = driver.reply(worker1, 42, payload: payload)
        #expect(actions == [.disconnectWorker(worker1), .release(payload)])
        #expect(driver.core.statistics.unknownWorkerMessages == 1)
        #expect(driver.core.statistics.protocolViolations == 0, "normal after a broker restart, not a violation")
    }

    @Test func heartbeatAndErrorFromUnknownWorkerAnswerDisconnect() {
        var driver = Driver()
        #expect(driver.heartbeat(worker: worker1) == [.disconnectWorker(worker1)])
        #expect(driver.workerError(worker2, 7) == [.disconnectWorker(worker2)])
        #expect(driver.core.statistics.unknownWorkerMessages == 2)
        #expect(driver.core.statistics.protocolViolations == 0)
        #expect(driver.core.workerCount == 0)
    }

    @Test func readyTwiceIsAViolationAndKeepsTheFirstRegistration() throws {
        var driver = Driver()
        driver.ready(worker1, ["f"], concurrency: 1)
        let actions = driver.ready(worker1, ["g"], concurrency: 5)
        #expect(actions.protocolViolations == [worker1])
        #expect(actions.count == 1)
        #expect(driver.core.statistics.protocolViolations == 1)
        #expect(driver.core.servedFunctions == ["f": 1])
        #expect(driver.call(client1, 1).requests.count == 1)
        #expect(driver.call(client1, 2).requests.isEmpty)
    }

    @Test func duplicateRequestIDFromOneClientIsRejectedAndReleased() throws {
        var driver = Driver()
        driver.ready(worker1, concurrency: 4)
        let original = try #require(driver.call(client1, 9).requests.first)
        let duplicate = driver.payload()
        let actions = driver.call(client1, 9, payload: duplicate)
        #expect(actions.releases == [duplicate])
        #expect(actions.protocolViolations == [client1])
        #expect(actions.requests.isEmpty)
        #expect(actions.failures.isEmpty)
        #expect(driver.core.statistics.protocolViolations == 1)
        #expect(driver.core.statistics.callsReceived == 1)
        #expect(driver.core.callsInFlight == 1)

        // The same id from another client is a different call.
        #expect(driver.call(client2, 9).requests.count == 1)
        // The original still gets its answer, and afterwards the id may be used again.
        #expect(driver.reply(worker1, original.dispatchID).replies.map(\.client) == [client1])
        #expect(driver.call(client1, 9).requests.count == 1)
    }

    @Test func duplicateOfAQueuedCallIsRejectedToo() {
        var driver = Driver(options: testOptions(grace: 60_000))
        let first = driver.payload()
        driver.call(client1, 9, payload: first)
        let duplicate = driver.payload()
        #expect(driver.call(client1, 9, payload: duplicate).releases == [duplicate])
        #expect(driver.core.queuedCallCount == 1)
        #expect(driver.ready(worker1).requests.map(\.payload) == [first])
    }

    @Test func answerForACallTheWorkerDoesNotRunIsAViolation() throws {
        var driver = Driver()
        driver.ready(worker1)
        driver.ready(worker2)
        let request = try #require(driver.call(client1, 1).requests.first)
        let other = request.worker == worker1 ? worker2 : worker1
        let payload = driver.payload()
        let actions = driver.reply(other, request.dispatchID, payload: payload)
        #expect(actions.releases == [payload])
        #expect(actions.replies.isEmpty)
        #expect(actions.protocolViolations == [other])
        #expect(driver.workerError(other, 999).protocolViolations == [other])
        #expect(driver.core.statistics.protocolViolations == 2)
        // The real worker's answer still counts.
        #expect(driver.reply(request.worker, request.dispatchID).replies.count == 1)
    }

    @Test func secondAnswerForTheSameCallIsAViolation() throws {
        var driver = Driver()
        driver.ready(worker1)
        let request = try #require(driver.call(client1, 1).requests.first)
        driver.reply(worker1, request.dispatchID)
        let payload = driver.payload()
        let actions = driver.reply(worker1, request.dispatchID, payload: payload)
        #expect(actions.releases == [payload])
        #expect(actions.replies.isEmpty)
        #expect(driver.core.inFlightCount(of: worker1) == 0)
    }

    @Test func malformedMessagesAreCountedAndLogged() {
        var driver = Driver()
        let actions = driver.send(.malformed(from: client1, .badHeader))
        #expect(actions == [.notice(.malformed(client1, .badHeader))])
        driver.send(.malformed(from: worker1, .badConcurrency))
        #expect(driver.core.statistics.malformedMessages == 2)
        #expect(driver.core.statistics.protocolViolations == 0)
        #expect(driver.core.workerCount == 0)
    }

    @Test func cancelOfAnUnknownCallDoesNothing() {
        var driver = Driver()
        #expect(driver.cancel(client1, 5).isEmpty)
        #expect(driver.core.statistics.callsCancelled == 0)
    }
}
