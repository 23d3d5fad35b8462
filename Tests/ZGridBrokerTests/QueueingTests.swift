import Testing
import ZGridProtocol

@testable import ZGridBroker

@Suite struct QueueingTests {
    @Test func callsBeyondCapacityAreQueuedAndDispatchedInArrivalOrder() throws {
        var driver = Driver()
        driver.ready(worker1, concurrency: 2)
        let running = (1...2).flatMap { driver.call(client1, UInt64($0)).requests }
        #expect(running.count == 2)

        var queuedPayloads: [PayloadHandle] = []
        for id in 3...6 {
            let payload = driver.payload()
            queuedPayloads.append(payload)
            #expect(driver.call(id.isMultiple(of: 2) ? client1 : client2, UInt64(id), payload: payload).isEmpty)
        }
        #expect(driver.core.queuedCallCount == 4)
        #expect(driver.core.callsInFlight == 6)

        var dispatched: [PayloadHandle] = []
        var pending = running.map(\.dispatchID)
        while !pending.isEmpty {
            let answered = pending.removeFirst()
            let actions = driver.reply(worker1, answered)
            #expect(actions.replies.count == 1)
            #expect(actions.requests.count <= 1)
            for request in actions.requests {
                dispatched.append(request.payload)
                pending.append(request.dispatchID)
                #expect(driver.core.inFlightCount(of: worker1)! <= 2)
            }
        }
        #expect(dispatched == queuedPayloads)
        #expect(driver.core.callsInFlight == 0)
    }

    @Test func workerErrorAlsoReturnsCredit() throws {
        var driver = Driver()
        driver.ready(worker1)
        let running = try #require(driver.call(client1, 1).requests.first)
        #expect(driver.call(client1, 2).isEmpty)
        let actions = driver.workerError(worker1, running.dispatchID)
        #expect(actions.failures == [SentFailure(client: client1, requestID: 1, code: .handlerError)])
        #expect(actions.requests.count == 1)
    }

    @Test func newlyReadyWorkerDrainsTheQueue() {
        var driver = Driver(options: testOptions(grace: 10_000))
        var payloads: [PayloadHandle] = []
        for id in 1...5 {
            let payload = driver.payload()
            payloads.append(payload)
            #expect(driver.call(client1, UInt64(id), payload: payload).isEmpty)
        }
        let actions = driver.ready(worker1, concurrency: 3)
        #expect(actions.requests.map(\.payload) == Array(payloads[0..<3]))
        #expect(actions.requests.allSatisfy { $0.worker == worker1 })
        #expect(driver.core.queuedCallCount == 2)

        let more = driver.ready(worker2, concurrency: 5)
        #expect(more.requests.map(\.payload) == Array(payloads[3...]))
        #expect(more.requests.allSatisfy { $0.worker == worker2 })
        #expect(driver.core.queuedCallCount == 0)
    }

    @Test func callsQueueBehindOlderCallsEvenIfAWorkerFreesUp() throws {
        var driver = Driver()
        driver.ready(worker1)
        let running = try #require(driver.call(client1, 1).requests.first)
        let second = driver.payload()
        driver.call(client1, 2, payload: second)
        // The freed credit goes to the queued call, not to one arriving later.
        let actions = driver.reply(worker1, running.dispatchID)
        #expect(actions.requests.map(\.payload) == [second])
        #expect(driver.call(client1, 3).isEmpty)
        #expect(driver.core.queuedCallCount == 1)
    }

    @Test func multiFunctionWorkerTakesTheOldestCallAcrossItsFunctions() throws {
        var driver = Driver(options: testOptions(grace: 10_000))
        let first = driver.payload()
        let second = driver.payload()
        let third = driver.payload()
        driver.call(client1, 1, "g", payload: first)
        driver.call(client1, 2, "f", payload: second)
        driver.call(client1, 3, "g", payload: third)
        var order: [PayloadHandle] = []
        var actions = driver.ready(worker1, ["f", "g"])
        while let request = actions.requests.first {
            order.append(request.payload)
            actions = driver.reply(worker1, request.dispatchID)
        }
        #expect(order == [first, second, third])
    }

    @Test func queueBoundAnswersBusyAndReleasesThePayload() {
        var driver = Driver(options: testOptions(maxQueued: 2))
        driver.ready(worker1)
        #expect(driver.call(client1, 1).requests.count == 1)
        #expect(driver.call(client1, 2).isEmpty)
        #expect(driver.call(client1, 3).isEmpty)
        let payload = driver.payload()
        let actions = driver.call(client2, 9, payload: payload)
        #expect(actions.failures == [SentFailure(client: client2, requestID: 9, code: .busy)])
        #expect(actions.releases == [payload])
        #expect(actions.count == 2)
        #expect(driver.core.queuedCallCount == 2)
        #expect(driver.core.statistics.callsFailed == 1)
        // Another function has its own queue.
        driver.ready(worker2, ["g"])
        #expect(driver.call(client2, 10, "g").requests.count == 1)
        #expect(driver.call(client2, 11, "g").isEmpty)
    }

    @Test func queueBoundAppliesWhileNoWorkerServesTheFunctionYet() {
        var driver = Driver(options: testOptions(grace: 10_000, maxQueued: 1))
        #expect(driver.call(client1, 1).isEmpty)
        let actions = driver.call(client1, 2)
        #expect(actions.failures.map(\.code) == [.busy])
        #expect(actions.releases.count == 1)
    }

    @Test func cancelledQueuedCallsDoNotCountAgainstTheQueueBound() throws {
        var driver = Driver(options: testOptions(maxQueued: 2))
        driver.ready(worker1)
        let running = try #require(driver.call(client1, 1).requests.first)
        driver.call(client1, 2)
        driver.call(client1, 3)
        driver.cancel(client1, 2)
        driver.cancel(client1, 3)
        #expect(driver.core.queuedCallCount == 0)

        // Room for two again.
        let fourth = driver.payload()
        let fifth = driver.payload()
        #expect(driver.call(client1, 4, payload: fourth).isEmpty)
        #expect(driver.call(client1, 5, payload: fifth).isEmpty)
        #expect(driver.call(client1, 6).failures.map(\.code) == [.busy])
        #expect(driver.core.queuedCallCount == 2)

        let actions = driver.reply(worker1, running.dispatchID)
        #expect(actions.requests.map(\.payload) == [fourth])
    }

    @Test func expiredQueuedCallsDoNotCountAgainstTheQueueBound() throws {
        var driver = Driver(options: testOptions(maxQueued: 2))
        driver.ready(worker1)
        driver.call(client1, 1, timeout: 60_000)
        driver.call(client1, 2, timeout: 100)
        driver.call(client1, 3, timeout: 100)
        driver.heartbeat(worker: worker1)
        let expired = driver.tick(after: 200)
        #expect(expired.failures.map(\.code) == [.timeout, .timeout])
        #expect(driver.call(client1, 4).isEmpty)
        #expect(driver.call(client1, 5).isEmpty)
        #expect(driver.core.queuedCallCount == 2)
    }

    @Test func manyCancelledQueuedCallsLeaveTheQueueUsable() throws {
        // Queue and cancel far more calls than the bound while the only worker stays busy.
        var driver = Driver(options: testOptions(maxQueued: 3))
        driver.ready(worker1)
        let running = try #require(driver.call(client1, 1).requests.first)
        var refused = 0
        var released = 0
        for id in UInt64(2)...200 {
            refused += driver.call(client1, id).failures.count
            released += driver.cancel(client1, id).releases.count
        }
        #expect(refused == 0)
        #expect(released == 199)
        let last = driver.payload()
        driver.call(client1, 1000, payload: last)
        #expect(driver.reply(worker1, running.dispatchID).requests.map(\.payload) == [last])
        #expect(driver.core.queuedCallCount == 0)
    }
}

@Suite("Per-client limit on calls in flight")
struct ClientLimitTests {
    @Test("a client past its limit of calls in flight is answered busy with a retry-after time, others are not")
    func perClientLimit() {
        var core = BrokerCore(options: BrokerOptions(maxInFlightPerClient: 3), now: 0)
        var actions: [BrokerAction] = []
        let greedy = PeerID(Array("greedy".utf8))
        let polite = PeerID(Array("polite".utf8))
        for id in 1...4 {
            core.handle(
                .message(from: greedy, .call(requestID: UInt64(id), function: "f", header: CallHeader(), payload: id)), now: 1,
                into: &actions)
        }
        core.handle(.message(from: polite, .call(requestID: 1, function: "f", header: CallHeader(), payload: 10)), now: 1, into: &actions)
        let busy = actions.compactMap { action -> (PeerID, UInt64, Int64)? in
            if case .refuse(let client, let requestID, _, let retryAfter) = action { return (client, requestID, retryAfter) }
            return nil
        }
        #expect(busy.count == 1)
        #expect(busy.first?.0 == greedy && busy.first?.1 == 4)
        #expect(busy.first?.2 == BrokerCore.clientLimitRetryAfterMilliseconds)
        #expect(actions.contains(.release(4)))
        #expect(core.statistics.admissionRefusals == 1)
    }
}
