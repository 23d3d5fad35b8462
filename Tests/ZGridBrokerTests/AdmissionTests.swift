import Testing
import ZGridJobStore
import ZGridProtocol

@testable import ZGridBroker

/// Admission control in the core: retry-after times from the drain rate, and the wait limit
/// counting only the work ahead of a new call's priority.
@Suite("Admission control")
struct AdmissionTests {
    /// A worker of concurrency 1 that completed 10 calls in the last second (a drain rate of ~10/s).
    func warmedUp(_ policy: FunctionPolicy) -> Driver {
        var options = testOptions(grace: 60_000)
        options.functions = ["f": policy]
        var driver = Driver(options: options)
        driver.ready(worker1, concurrency: 1)
        driver.send(.tick)  // starts the rate window
        for request in 1...10 {
            let sent = driver.call(client2, UInt64(request))
            if let dispatch = sent.requests.first { driver.reply(worker1, dispatch.dispatchID) }
        }
        driver.now = 1000
        driver.send(.tick)
        return driver
    }

    /// A worker of concurrency 1 busy with call 1 of client 1, which never finishes; a wait limit of
    /// 500 ms and no drain rate yet.
    func busyWithoutRate() -> Driver {
        var options = testOptions(grace: 60_000)
        options.functions = ["f": FunctionPolicy(maxQueueWaitMilliseconds: 500)]
        var driver = Driver(options: options)
        driver.ready(worker1, concurrency: 1)
        driver.call(client1, 1)
        return driver
    }

    func refusals(_ actions: [BrokerAction]) -> [Int64] {
        actions.compactMap { if case .refuse(_, _, _, let retryAfter) = $0 { retryAfter } else { nil } }
    }

    @Test("past the wait limit a call is refused with the time its queue needs; a higher priority one still queues")
    func waitLimitByPriority() {
        var driver = warmedUp(FunctionPolicy(maxQueueWaitMilliseconds: 500))
        driver.call(client1, 100)  // runs
        var refused: [Int64] = []
        for request in 101...110 { refused += refusals(driver.call(client1, UInt64(request))) }
        // About 10 calls per second drain: 5 queued make 500 ms, the next ones are refused.
        #expect(driver.core.queuedCallCount == 4 || driver.core.queuedCallCount == 5)
        #expect(!refused.isEmpty)
        #expect(refused.allSatisfy { (50...2000).contains($0) }, "retry-after from the drain rate: \(refused)")
        var urgent = CallHeader(priority: 9)
        urgent.timeoutMilliseconds = 0
        let actions = driver.message(client1, .call(requestID: 200, function: "f", header: urgent, payload: driver.payload()))
        #expect(refusals(actions).isEmpty, "nothing of priority 9 is ahead of it")
        #expect(driver.core.queuedCallCount >= 5)
    }

    @Test("before anything has drained, the wait limit applies to how long the oldest queued call has waited")
    func waitLimitWithoutRate() {
        var driver = busyWithoutRate()
        #expect(refusals(driver.call(client1, 2)).isEmpty, "the first to wait is queued")
        driver.now += 400
        #expect(refusals(driver.call(client1, 3)).isEmpty, "the oldest has waited 400 ms of 500")
        driver.now += 200
        #expect(refusals(driver.call(client1, 4)) == [1000], "the oldest has waited 600 ms and nothing drains")
        var urgent = CallHeader(priority: 9)
        urgent.timeoutMilliseconds = 0
        let actions = driver.message(client1, .call(requestID: 5, function: "f", header: urgent, payload: driver.payload()))
        #expect(refusals(actions).isEmpty, "nothing of priority 9 waits ahead of it")
        #expect(driver.core.queuedCallCount == 3)
    }

    @Test("a burst right after a function's first completions is judged by the rate they give, before any rate update")
    func burstAfterFirstCompletions() {
        var options = testOptions(grace: 60_000)
        options.functions = ["f": FunctionPolicy(maxQueueWaitMilliseconds: 1000)]
        var driver = Driver(options: options)
        driver.ready(worker1, concurrency: 1)
        // Three calls complete within 300 ms; no tick folds them into a rate.
        for request in 1...3 {
            let sent = driver.call(client2, UInt64(request))
            driver.now += 100
            if let dispatch = sent.requests.first { driver.reply(worker1, dispatch.dispatchID) }
        }
        driver.call(client1, 100)  // runs
        var refused: [Int64] = []
        for request in 101...140 { refused += refusals(driver.call(client1, UInt64(request))) }
        // Three in (at least) 500 ms: about 6 a second, so about 6 queued make the 1000 ms allowed.
        #expect((4...8).contains(driver.core.queuedCallCount), "\(driver.core.queuedCallCount) queued")
        #expect(refused.count >= 30, "\(refused.count) refused")
    }

    @Test("a cancelled call left in the queue does not count as waiting")
    func staleEntriesDoNotWait() {
        var driver = busyWithoutRate()
        driver.call(client1, 2)  // queues at 0 ms
        driver.now += 400
        driver.call(client1, 3)  // queue at 400 ms
        driver.call(client1, 4)
        driver.message(client1, .cancel(requestID: 2))  // one stale entry of three stays in the queue
        driver.now += 200
        #expect(refusals(driver.call(client1, 5)).isEmpty, "the only call that waited 600 ms was cancelled")
        driver.now += 400
        #expect(refusals(driver.call(client1, 6)) == [1000], "calls 3 and 4 have waited 600 ms")
    }

    @Test("admission under a wait limit drops the entries of cancelled calls at the queue's front, and judges by the calls left")
    func staleHeadsDroppedAtAdmission() {
        var driver = busyWithoutRate()
        /// A CALL of priority `priority` from client 1.
        func call(_ id: UInt64, priority: UInt8) -> [BrokerAction] {
            driver.message(client1, .call(requestID: id, function: "f", header: CallHeader(priority: priority), payload: driver.payload()))
        }
        // 40 calls queued at 0 ms and 5 more of priority 5, then 50 at 200 ms; the 45 queued first
        // are cancelled: fewer than half of the 96 entries, so the queue is not compacted on the way.
        for id in UInt64(2)...41 { driver.call(client1, id) }
        for id in UInt64(200)...204 { _ = call(id, priority: 5) }
        driver.now = 200
        for id in UInt64(42)...91 { driver.call(client1, id) }
        for id in Array(UInt64(2)...41) + Array(UInt64(200)...204) { driver.message(client1, .cancel(requestID: id)) }
        let service = driver.core.services["f"]!
        #expect(service.queue.count == 95 && service.waitingCount == 50)
        driver.now = 600
        #expect(refusals(driver.call(client1, 92)).isEmpty, "the oldest call left has waited 400 ms of 500")
        #expect(service.queue.count == 51, "the 45 cancelled calls' entries are gone, not skipped at each admission")
        #expect(service.staleEntries == 0 && service.waitingCount == 51)
        driver.now = 800
        #expect(refusals(driver.call(client1, 93)) == [1000], "the oldest call left has waited 600 ms and nothing drains")
        #expect(service.queue.count == 51 && service.waitingCount == 51)
        #expect(refusals(call(94, priority: 5)).isEmpty, "nothing of priority 5 waits ahead of it")
        // Once the worker is free, the calls left are served: the one of priority 5 first.
        let sent = driver.message(worker1, .reply(dispatchID: 1, payload: driver.payload())).requests
        #expect(sent.map(\.header.priority) == [5])
        #expect(driver.core.callsInFlight == 52)
    }

    @Test("an idle stretch does not wear the drain rate down")
    func idleKeepsRate() {
        var driver = warmedUp(FunctionPolicy(maxQueueWaitMilliseconds: 500))
        for _ in 0..<20 {  // ten idle seconds, nothing queued
            driver.now += 500
            driver.send(.tick)
        }
        driver.call(client1, 100)  // runs
        #expect(refusals(driver.call(client1, 101)).isEmpty, "first in line at about 10 calls a second: about 100 ms")
        for _ in 0..<6 {  // three seconds with a call queued and nothing finishing
            driver.now += 500
            driver.send(.tick)
        }
        #expect(refusals(driver.call(client1, 102)).count == 1, "nothing drains while a call waits: the rate falls")
    }

    @Test("past the length limit a call is refused; without a drain rate the retry-after is a second")
    func lengthLimit() {
        var options = testOptions(grace: 60_000)
        options.functions = ["f": FunctionPolicy(maxQueued: 2)]
        var driver = Driver(options: options)
        driver.ready(worker1, concurrency: 1)
        for request in 1...3 { #expect(refusals(driver.call(client1, UInt64(request))).isEmpty) }
        #expect(refusals(driver.call(client1, 4)) == [1000])
        #expect(driver.core.statistics.admissionRefusals == 1)
    }
}

@Suite("Per-client job limit")
struct ClientJobLimitTests {
    @Test("a client's unfinished jobs in memory are bounded; a finished job frees its place")
    func perClientLimit() throws {
        var options = testOptions(grace: 60_000)
        options.maxJobsPerClient = 2
        var driver = Driver(options: options)
        var ignored: [BrokerAction] = []
        driver.core.recoverJobs([], maxID: 0, now: 0, into: &ignored)
        func submit(_ driver: inout Driver, _ client: PeerID, _ request: UInt64) -> [BrokerAction] {
            driver.message(client, .submit(requestID: request, function: "f", spec: JobSpec(), keys: JobKeys(), tags: [], payload: []))
        }
        let tokens = [submit(&driver, client1, 1), submit(&driver, client1, 2)].flatMap {
            $0.compactMap { if case .storeWrite(_, let token) = $0 { token } else { nil } }
        }
        #expect(submit(&driver, client1, 3).failures.map(\.code) == [.busy], "the third job of client 1 is refused")
        #expect(submit(&driver, client2, 1).failures.isEmpty, "other clients are not limited by it")
        driver.send(.storeCommitted(tokens: tokens))
        let running = driver.ready(worker1, concurrency: 1)
        let attempt = try #require(running.compactMap { if case .requestJob(_, let id, _, _, _) = $0 { id } else { nil } }.first)
        driver.reply(worker1, attempt)
        #expect(submit(&driver, client1, 4).failures.isEmpty, "a finished job frees its place")
    }

    @Test("delayed jobs count against the per-client limit after their commit too")
    func delayedJobsCount() throws {
        var options = testOptions(grace: 60_000)
        options.maxJobsPerClient = 2
        var harness = JobHarness(options: options)
        let later = JobSpec(runAt: harness.driver.core.wallNow + 3_600_000)
        harness.submit(client1, 1, spec: later)
        harness.submit(client1, 2, spec: later)
        #expect(harness.commit().acceptedJobs.map(\.requestID) == [1, 2])
        #expect(harness.submit(client1, 3, spec: later).failures.map(\.code) == [.busy])
        #expect(harness.submit(client2, 1, spec: later).failures.isEmpty)
    }
}
