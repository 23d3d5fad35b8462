import Testing
import ZGridProtocol

@testable import ZGridBroker

@Suite struct ResumeTests {
    let options = testOptions(interval: 1000, liveness: 3, timeout: 60_000, grace: 60_000)

    /// READY from `worker` for `f`, resuming the session `previous` with `running` still running.
    @discardableResult
    /// `key` is the CURVE key of `worker`'s connection (nil without CURVE).
    func resume(
        _ driver: inout Driver, _ worker: PeerID, previous: PeerID, running: [UInt64], concurrency: Int = 2, key: String? = nil
    ) -> [BrokerAction] {
        driver.message(
            worker,
            .ready(
                concurrency: concurrency, functions: [ServiceDescriptor(name: "f")],
                resume: SessionResume(previous: previous, running: running), key: key))
    }

    /// worker1 runs calls 1 and 2 (dispatch ids 1 and 2) of client1.
    func busyWorker() throws -> Driver {
        var driver = Driver(options: options)
        driver.ready(worker1, concurrency: 2)
        driver.call(client1, 1)
        driver.call(client1, 2)
        #expect(driver.core.inFlightCount(of: worker1) == 2)
        return driver
    }

    @Test("a worker that registers again takes over the calls it still runs; the others fail as lost")
    func resumedSessionKeepsRunningCalls() throws {
        var driver = try busyWorker()
        let actions = resume(&driver, worker2, previous: worker1, running: [1])
        #expect(actions.notices.contains(.sessionResumed(worker2, previous: worker1, moved: 1, cancelled: 0)))
        #expect(actions.workersLeft.map(\.worker) == [worker1])
        #expect(actions.failures == [SentFailure(client: client1, requestID: 2, code: .workerLost)])
        #expect(actions.cancels.isEmpty)
        #expect(driver.core.inFlightCount(of: worker1) == nil)
        #expect(driver.core.inFlightCount(of: worker2) == 1)
        // Its answer over the new connection is the call's answer.
        let answered = driver.reply(worker2, 1, payload: 77)
        #expect(answered.replies == [SentReply(client: client1, requestID: 1, payload: 77)])
        #expect(driver.core.statistics.protocolViolations == 0)
        #expect(driver.core.inFlightCount(of: worker2) == 0)
    }

    @Test("listed ids the broker no longer runs there are cancelled on the new session, their answers discarded")
    func unknownListedIdsAreCancelled() throws {
        var driver = try busyWorker()
        driver.cancel(client1, 2)  // ended while its worker still runs it
        let actions = resume(&driver, worker2, previous: worker1, running: [1, 2, 900], concurrency: 4)
        #expect(actions.notices.contains(.sessionResumed(worker2, previous: worker1, moved: 1, cancelled: 2)))
        #expect(Set(actions.cancels.map(\.dispatchID)) == [2, 900])
        #expect(actions.cancels.allSatisfy { $0.worker == worker2 })
        #expect(driver.core.inFlightCount(of: worker2) == 3)
        for id: UInt64 in [2, 900] { #expect(driver.reply(worker2, id).replies.isEmpty) }
        #expect(driver.core.statistics.protocolViolations == 0)
        #expect(driver.core.inFlightCount(of: worker2) == 1)
        // No new request is ever given an id the worker may still run.
        let next = driver.call(client1, 3)
        #expect(next.requests.map(\.dispatchID).allSatisfy { $0 > 900 })
    }

    @Test("a session resumed that the broker does not know cancels every listed id and loses nothing else")
    func unknownSessionCancelsItsIds() throws {
        var driver = try busyWorker()
        let actions = resume(&driver, worker2, previous: worker3, running: [5])
        #expect(actions.cancels.map(\.dispatchID) == [5])
        #expect(actions.workersLeft.isEmpty)
        #expect(driver.core.inFlightCount(of: worker1) == 2)
        #expect(driver.core.inFlightCount(of: worker2) == 1)
    }

    @Test("with CURVE, a READY naming the session of another key registers without resuming; that session keeps its calls")
    func resumeWithAnotherKeyIsRefused() throws {
        var driver = Driver(options: options)
        driver.message(worker1, .ready(concurrency: 2, functions: [ServiceDescriptor(name: "f")], key: "A"))
        driver.call(client1, 1)
        let actions = resume(&driver, worker2, previous: worker1, running: [1, 7], key: "B")
        #expect(actions.notices.contains(.resumeRefused(worker2, previous: worker1)))
        #expect(actions.workersLeft.isEmpty)
        #expect(actions.cancels.isEmpty)
        #expect(driver.core.inFlightCount(of: worker1) == 1)
        #expect(driver.core.inFlightCount(of: worker2) == 0)
        #expect(driver.reply(worker1, 1, payload: 5).replies == [SentReply(client: client1, requestID: 1, payload: 5)])
        // The same key resumes.
        let resumed = resume(&driver, worker3, previous: worker1, running: [], key: "A")
        #expect(resumed.notices.contains(.sessionResumed(worker3, previous: worker1, moved: 0, cancelled: 0)))
    }

    @Test("a READY listing the highest dispatch ids does not overflow the broker's next dispatch id")
    func highestListedIdsDoNotOverflow() throws {
        var driver = try busyWorker()
        resume(&driver, worker2, previous: worker3, running: [.max - 1, .max])
        driver.ready(worker3, concurrency: 4)
        let next = driver.call(client1, 3)
        #expect(next.requests.count == 1)
        #expect(next.requests.allSatisfy { ![.max - 1, .max].contains($0.dispatchID) })
    }
}
