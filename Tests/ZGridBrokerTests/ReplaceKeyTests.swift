import Testing
import ZGridJobStore
import ZGridProtocol

@testable import ZGridBroker

/// Replace and unique keys when submits overlap: the outcome is that of sequential submits,
/// whether or not the earlier submit has committed, and across a crash.
@Suite("Replace keys with overlapping submits")
struct ReplaceKeyTests {
    @Test("a replace key supersedes a job whose own submit has not committed yet; both submits are acknowledged")
    func supersedesUncommitted() throws {
        var harness = JobHarness(options: testOptions(grace: 60_000))
        var actions = harness.message(client1, Self.submit(1, replace: "k"))
        actions += harness.message(client2, Self.submit(2, replace: "k"))
        actions += harness.commit()
        #expect(actions.acceptedJobs.map(\.job).sorted() == [1, 2])
        #expect(harness.stored[1]?.state == .cancelled)
        #expect(harness.stored[1]?.lastError == "superseded by job 2")
        #expect(harness.stored[2]?.state == .queued)
        #expect(harness.driver.core.jobs.keys.sorted() == [2])
        #expect(harness.driver.core.replaceJobs == ["k": 2])
        #expect(harness.driver.core.statistics.jobsAccepted == 2)
        #expect(harness.driver.core.statistics.jobsSuperseded == 1)
        #expect(harness.driver.core.queuedJobs(of: "f") == 1, "admission counts only the job that holds the key")
        let events = harness.driver.published.filter { $0.job == 1 }.map(\.kind)
        #expect(events == ["queued", "cancelled"])
        // Only the later job runs.
        actions = harness.ready(worker1)
        #expect(actions.jobAttempts.map(\.job) == [2])
    }

    @Test("ten submits with one replace key leave only the last queued, however their commits fall")
    func manyOverlapping() throws {
        for commitEvery in [1, 3, 10] {
            var harness = JobHarness(options: testOptions(grace: 60_000))
            var accepted: [Int64] = []
            for request in UInt64(1)...10 {
                harness.message(client1, Self.submit(request, replace: "k"))
                if request % UInt64(commitEvery) == 0 { accepted += harness.commit().acceptedJobs.map(\.job) }
            }
            accepted += harness.commit().acceptedJobs.map(\.job)
            #expect(accepted.sorted() == Array(1...10), "every \(commitEvery)")
            for id in Int64(1)...9 {
                #expect(harness.stored[id]?.state == .cancelled, "job \(id), every \(commitEvery)")
                #expect(harness.stored[id]?.lastError == "superseded by job \(id + 1)", "job \(id), every \(commitEvery)")
            }
            #expect(harness.stored[10]?.state == .queued, "every \(commitEvery)")
            #expect(harness.driver.core.jobCounts == ["queued": 1], "every \(commitEvery)")
        }
    }

    @Test("a JOB WAIT on a superseded job not yet committed is answered with its cancelled record, once the cancel is committed")
    func waitOnSupersededUncommitted() throws {
        var harness = JobHarness(options: testOptions(grace: 60_000))
        harness.message(client1, Self.submit(1, replace: "k"))
        harness.commit()
        harness.message(client1, Self.submit(2, replace: "k"))
        harness.job(client2, 10, .wait, 2, wait: 60_000)
        var actions = harness.message(client1, Self.submit(3, replace: "k"))
        #expect(actions.jobReplies.isEmpty, "answered once the transaction that cancels job 2 has committed")
        #expect(!harness.driver.published.contains { $0.job == 2 && $0.kind == "cancelled" })
        actions = harness.commit()
        #expect(harness.driver.published.filter { $0.job == 2 }.map(\.kind) == ["queued", "cancelled"])
        let reply = try #require(actions.jobReplies.first)
        #expect(reply.request == ClientRequest(client: client2, requestID: 10))
        #expect(reply.jobs.map(\.state) == ["cancelled"])
        #expect(reply.jobs.map(\.lastError) == ["superseded by job 3"])
    }

    @Test("the superseded job is cancelled in the transaction that stores its successor, so a crash keeps exactly one")
    func crashKeepsOne() throws {
        var harness = JobHarness(options: testOptions(grace: 60_000))
        var writes = harness.message(client1, Self.submit(1, replace: "k")).storeWrites
        writes += harness.message(client2, Self.submit(2, replace: "k")).storeWrites
        #expect(writes.count == 2)
        #expect(writes.last?.map(\.id) == [1, 2], "job 1's cancel and job 2 are one write")
        #expect(writes.last?.first?.state == .cancelled)
        // A crash after any prefix of the transactions: the restarted broker holds one unfinished
        // job with the key, the latest written, and runs only that.
        for durable in 0...writes.count {
            var store: [Int64: JobRecord] = [:]
            for write in writes.prefix(durable) { for record in write { store[record.id] = record } }
            var driver = Driver(options: testOptions(grace: 60_000))
            var actions: [BrokerAction] = []
            driver.core.recoverJobs(store.values.sorted { $0.id < $1.id }, maxID: store.keys.max() ?? 0, now: 0, into: &actions)
            let unfinished = driver.core.jobs.keys.sorted()
            #expect(unfinished == (durable == 0 ? [] : [Int64(durable)]), "after \(durable) transactions")
            #expect(actions.storeWrites.isEmpty, "nothing to repair after \(durable) transactions")
        }
    }

    @Test("a store holding several queued jobs with one replace key (from an earlier broker) keeps the latest at start")
    func recoveryRepairs() throws {
        var driver = Driver(options: testOptions(grace: 60_000))
        let records = [
            Self.record(1, .queued, replace: "k"), Self.record(2, .running, replace: "k"), Self.record(3, .scheduled, replace: "k"),
            Self.record(4, .queued, replace: "k"), Self.record(5, .queued, replace: "other"),
        ]
        var actions: [BrokerAction] = []
        driver.core.recoverJobs(records, maxID: 5, now: 0, into: &actions)
        #expect(driver.core.jobs.keys.sorted() == [2, 4, 5], "the job that was running runs again")
        #expect(driver.core.replaceJobs == ["k": 4, "other": 5])
        let written = Dictionary(actions.storeWrites.joined().map { ($0.id, $0) }) { _, last in last }
        #expect(written[1]?.state == .cancelled)
        #expect(written[1]?.lastError == "superseded by job 4")
        #expect(written[3]?.state == .cancelled)
        #expect(written[3]?.lastError == "superseded by job 4")
        #expect(written[2]?.state == .queued, "the interrupted attempt is queued again")
        #expect(written[4] == nil && written[5] == nil)
        let cancelled = { (actions: [BrokerAction]) in
            actions.compactMap { if case .publish(let event) = $0, event.kind == "cancelled" { event.job } else { nil } }
        }
        #expect(cancelled(actions).isEmpty, "published once the rewrite has committed")
        let token = try #require(actions.compactMap { if case .storeWrite(_, let token) = $0 { token } else { nil } }.first)
        actions = []
        driver.core.handle(.storeCommitted(tokens: [token]), now: 0, into: &actions)
        #expect(cancelled(actions) == [1, 3])
    }

    @Test("a unique key coalesces a submit into a job whose own submit has not committed yet")
    func uniqueCoalescesUncommitted() throws {
        var harness = JobHarness(options: testOptions(grace: 60_000))
        var actions = harness.message(client1, JobHarness.submit(1, key: "u"))
        actions += harness.message(client2, JobHarness.submit(2, key: "u"))
        #expect(actions.acceptedJobs.isEmpty, "nothing is acknowledged before the commit")
        actions += harness.commit()
        #expect(actions.acceptedJobs.map(\.requestID).sorted() == [1, 2])
        #expect(actions.acceptedJobs.map(\.job) == [1, 1])
        #expect(harness.stored.keys.sorted() == [1])
    }

    /// A SUBMIT of a job of `f` with the replace key `key`.
    static func submit(_ requestID: UInt64, replace key: String, unique: String? = nil, tags: [String] = []) -> CoreMessage {
        .submit(
            requestID: requestID, function: "f", spec: JobSpec(), keys: JobKeys(unique: unique, replace: key), tags: tags, payload: [7])
    }

    /// A job of `f` as a store holds it, with the replace key `key`.
    static func record(_ id: Int64, _ state: JobState, replace key: String) -> JobRecord {
        var record = JobRecord(
            id: id, function: "f", payload: [7], state: state, attempts: state == .running ? 1 : 0,
            runAt: state == .scheduled ? 1_800_000_000_000 : 1_700_000_000_000, createdAt: 1_700_000_000_000)
        record.replaceKey = key
        return record
    }
}

extension [BrokerAction] {
    /// The job records of each store write, in order.
    var storeWrites: [[JobRecord]] {
        compactMap {
            guard case .storeWrite(let writes, _) = $0 else { return nil }
            return writes.compactMap { if case .upsert(let record) = $0 { record } else { nil } }
        }
    }
}
