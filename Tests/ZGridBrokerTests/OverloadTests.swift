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
}
