import Testing
import ZGridProtocol

@testable import ZGridBroker

@Suite struct RoutingTests {
    @Test func callGoesAsRequestToAWorkerServingTheFunction() throws {
        var driver = Driver()
        driver.ready(worker1, ["other"])
        driver.ready(worker2, ["f"])
        let payload = driver.payload()
        let actions = driver.call(client1, 7, "f", payload: payload, timeout: 500)

        #expect(actions.count == 1)
        let request = try #require(actions.requests.first)
        #expect(request.worker == worker2)
        #expect(request.function == "f")
        #expect(request.payload == payload)
        #expect(request.consume)
        #expect(request.header.attempt == 1)
        #expect(request.header.timeoutMilliseconds == 500)
        #expect(driver.core.inFlightCount(of: worker2) == 1)
        #expect(driver.core.inFlightCount(of: worker1) == 0)
    }

    @Test func replyAndWorkerErrorAreForwardedToTheirClients() throws {
        var driver = Driver()
        driver.ready(worker1, concurrency: 2)
        let first = try #require(driver.call(client1, 11).requests.first)
        let second = try #require(driver.call(client2, 22).requests.first)

        let answer = driver.payload()
        let replied = driver.reply(worker1, first.dispatchID, payload: answer)
        #expect(replied == [.reply(client: client1, requestID: 11, payload: answer)])

        let failed = driver.workerError(worker1, second.dispatchID, .handlerError)
        #expect(failed == [.fail(client: client2, requestID: 22, code: .handlerError, message: "boom")])
        #expect(driver.core.callsInFlight == 0)
        #expect(driver.core.statistics.callsSucceeded == 1)
        #expect(driver.core.statistics.callsFailed == 1)
    }

    @Test func requestHeaderCarriesTheTimeLeft() throws {
        var driver = Driver(options: testOptions(timeout: 4000))
        driver.ready(worker1)
        let running = try #require(driver.call(client1, 1).requests.first)
        #expect(running.header.timeoutMilliseconds == 4000)
        driver.call(client1, 2)
        driver.advance(by: 1500)
        let next = try #require(driver.reply(worker1, running.dispatchID).requests.first)
        #expect(next.header.timeoutMilliseconds == 2500)
    }

    @Test func leastLoadedWorkerIsChosen() throws {
        var driver = Driver()
        driver.ready(worker1, concurrency: 4)
        driver.ready(worker2, concurrency: 4)
        // Load worker 1 with three calls by keeping worker 2 out of the way first.
        var onWorker1: [UInt64] = []
        for id in 1...4 {
            let request = try #require(driver.call(client1, UInt64(id)).requests.first)
            if request.worker == worker1 { onWorker1.append(request.dispatchID) }
        }
        // Two each now; finishing both on worker 1 makes it the least loaded.
        #expect(onWorker1.count == 2)
        for id in onWorker1 { driver.reply(worker1, id) }
        let next = try #require(driver.call(client1, 5).requests.first)
        #expect(next.worker == worker1)
        let after = try #require(driver.call(client1, 6).requests.first)
        #expect(after.worker == worker1)
        // Now 2 and 2 again: the tie goes to worker 2, which got work least recently.
        let tie = try #require(driver.call(client1, 7).requests.first)
        #expect(tie.worker == worker2)
    }

    @Test func loadIsMeasuredRelativeToConcurrency() throws {
        var driver = Driver()
        driver.ready(worker1, concurrency: 4)
        driver.ready(worker2, concurrency: 2)
        var counts: [PeerID: Int] = [:]
        for id in 1...6 {
            let request = try #require(driver.call(client1, UInt64(id)).requests.first)
            counts[request.worker, default: 0] += 1
        }
        // Filling both completely, but at every step the one with the smaller fraction in use won.
        #expect(counts == [worker1: 4, worker2: 2])
        #expect(driver.core.queuedCallCount == 0)
    }

    @Test func fractionInUseDecidesNotTheCount() throws {
        var driver = Driver()
        driver.ready(worker1, concurrency: 10)
        driver.ready(worker2, concurrency: 2)
        // Both idle: tie, then 1/10 vs 0/2 → worker 2, then 1/10 vs 1/2 → worker 1.
        let picks = try (1...3).map { id in try #require(driver.call(client1, UInt64(id)).requests.first).worker }
        #expect(picks == [worker1, worker2, worker1])
    }

    @Test func tiesGoToTheLeastRecentlyUsedWorker() throws {
        var driver = Driver()
        driver.ready(worker1)
        driver.ready(worker2)
        driver.ready(worker3)
        var order: [PeerID] = []
        for id in 1...3 {
            let request = try #require(driver.call(client1, UInt64(id)).requests.first)
            order.append(request.worker)
            driver.reply(request.worker, request.dispatchID)
        }
        // Every call finds all three idle; each goes to the one that waited longest.
        #expect(Set(order).count == 3)
        for id in 4...9 {
            let request = try #require(driver.call(client1, UInt64(id)).requests.first)
            order.append(request.worker)
            driver.reply(request.worker, request.dispatchID)
        }
        #expect(Array(order[3...5]) == Array(order[0...2]))
        #expect(Array(order[6...8]) == Array(order[0...2]))
    }

    @Test func loadSpreadsEvenlyOverTwoEqualWorkers() throws {
        var driver = Driver()
        driver.ready(worker1, concurrency: 8)
        driver.ready(worker2, concurrency: 8)
        let requests = (1...16).flatMap { driver.call(client1, UInt64($0)).requests }
        #expect(requestCounts(requests) == [worker1: 8, worker2: 8])
        // Sequentially answered calls alternate too.
        var sequential = Driver()
        sequential.ready(worker1, concurrency: 8)
        sequential.ready(worker2, concurrency: 8)
        var picks: [PeerID] = []
        for id in 1...10 {
            let request = try #require(sequential.call(client1, UInt64(id)).requests.first)
            picks.append(request.worker)
            sequential.reply(request.worker, request.dispatchID)
        }
        #expect(picks.filter { $0 == worker1 }.count == 5)
        #expect(zip(picks, picks.dropFirst()).allSatisfy { $0 != $1 })
    }

    @Test func workerNeverGetsMoreThanItsConcurrency() {
        var driver = Driver()
        driver.ready(worker1, concurrency: 3)
        driver.ready(worker2, concurrency: 1)
        var requests: [SentRequest] = []
        for id in 1...10 { requests += driver.call(client1, UInt64(id)).requests }
        #expect(requestCounts(requests) == [worker1: 3, worker2: 1])
        #expect(driver.core.inFlightCount(of: worker1) == 3)
        #expect(driver.core.inFlightCount(of: worker2) == 1)
        #expect(driver.core.queuedCallCount == 6)
    }

    @Test func multiFunctionWorkerServesEveryFunctionItAnnounced() {
        var driver = Driver()
        let actions = driver.ready(worker1, ["f", "g", "f"], concurrency: 2)
        #expect(actions.notices == [.workerJoined(worker1, functions: ["f", "g"], concurrency: 2)])
        #expect(actions.workerHeartbeats == [worker1])
        #expect(driver.core.servedFunctions == ["f": 1, "g": 1])
        #expect(driver.call(client1, 1, "f").requests.first?.worker == worker1)
        #expect(driver.call(client1, 2, "g").requests.first?.worker == worker1)
    }

    @Test func dispatchIDsAreUnique() {
        var driver = Driver()
        driver.ready(worker1, concurrency: 100)
        let ids = (1...50).flatMap { driver.call(client1, UInt64($0)).requests.map(\.dispatchID) }
        #expect(Set(ids).count == 50)
    }
}
