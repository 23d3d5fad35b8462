import Testing
import ZGridProtocol

@testable import ZGridBroker

/// When the broker counts as overloaded for load shedding: a queued call still waiting after
/// `call_wait_ms`, whatever its place in the queue.
@Suite("Overload for load shedding")
struct OverloadTests {
    /// A core with one busy worker of `f`, overloaded once a call has waited 250 ms.
    func busy() -> Driver {
        var options = testOptions(grace: 60_000)
        options.shedding = SheddingPolicy(queuedCalls: 64, callWaitMilliseconds: 250)
        var driver = Driver(options: options)
        driver.ready(worker1)
        driver.call(client1, 1)
        return driver
    }

    /// A CALL of `f` with `priority` from client 1.
    func call(_ driver: inout Driver, _ requestID: UInt64, priority: UInt8) {
        driver.message(
            client1, .call(requestID: requestID, function: "f", header: CallHeader(priority: priority), payload: driver.payload()))
    }

    @Test("a low-priority call waiting past call_wait_ms overloads the broker, also behind a fresh high-priority call")
    func oldCallBehindFreshHigherPriority() {
        var driver = busy()
        call(&driver, 2, priority: 0)
        driver.now = 300
        call(&driver, 3, priority: 9)
        let overloaded = driver.core.isOverloaded(now: 300)
        #expect(overloaded)
    }

    @Test("a call cancelled while queued no longer counts as waiting")
    func cancelledCallIsNotWaiting() {
        var driver = busy()
        call(&driver, 2, priority: 0)
        driver.now = 200
        call(&driver, 3, priority: 0)
        call(&driver, 4, priority: 0)
        driver.message(client1, .cancel(requestID: 2))
        driver.now = 300
        let early = driver.core.isOverloaded(now: 300)
        #expect(!early, "calls 3 and 4 have waited 100 ms")
        driver.now = 450
        let late = driver.core.isOverloaded(now: 450)
        #expect(late, "calls 3 and 4 have waited 250 ms")
    }

    @Test("an overload check drops the entries of calls cancelled while queued, once, and the calls still waiting keep their count")
    func staleEntriesDroppedOnce() {
        var driver = busy()
        // 90 queued (the queue holds 100), 40 of them cancelled: fewer than half, so the queue is
        // not compacted on the way.
        for id in UInt64(2)...91 { call(&driver, id, priority: 0) }
        for id in UInt64(2)...41 { driver.message(client1, .cancel(requestID: id)) }
        let service = driver.core.services["f"]!
        #expect(service.waitingCount == 50)
        driver.now = 100
        let early = driver.core.isOverloaded(now: 100)
        #expect(!early)
        #expect(service.queue.count == 50, "the 40 cancelled calls' entries are gone, not skipped at each check")
        #expect(service.staleEntries == 0 && service.waitingCount == 50)
        driver.now = 300
        let late = driver.core.isOverloaded(now: 300)
        #expect(late, "the 50 left have waited 300 ms")
        // The calls left are served in order once the worker is free.
        driver.message(worker1, .reply(dispatchID: 1, payload: driver.payload()))
        #expect(driver.core.callsInFlight == 50)
    }
}
