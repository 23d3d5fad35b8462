import Testing
import ZGridJobStore
import ZGridProtocol

@testable import ZGridBroker

/// A core driven together with a stand-in for its job store: writes are kept as the store keeps
/// them and committed on ``commit()``; each read is answered from the writes handed over before it
/// (as the store answers reads), delivered on ``answerReads(limit:)``.
struct JobHarness {
    var driver: Driver
    /// The job records as the store holds them.
    private(set) var stored: [Int64: JobRecord] = [:]
    /// The job records as of the last commit (what a failed transaction falls back to).
    private var committed: [Int64: JobRecord] = [:]
    private var uncommitted: [UInt64] = []
    private var reads: [(token: UInt64, answer: Result<StoreReadResult, JobStoreError>)] = []

    /// A core with `records` recovered (none by default), as a store found at start holds them and
    /// with what the recovery wrote back committed, and its wall clock at `wall` (ms since 1970).
    init(options: BrokerOptions, wall: Int64 = 1_700_000_000_000, recovering records: [JobRecord] = []) {
        driver = Driver(options: options)
        driver.core.wallNow = wall
        var actions: [BrokerAction] = []
        driver.core.recoverJobs(records, maxID: records.map(\.id).max() ?? 0, now: 0, into: &actions)
        for record in records + actions.storeWrites.joined() { stored[record.id] = record }
        committed = stored
    }

    /// Feeds `event` to the core, hands the store what it asked for, and returns the core's actions.
    @discardableResult
    mutating func send(_ event: BrokerEvent) -> [BrokerAction] {
        let actions = driver.send(event)
        for action in actions {
            switch action {
            case .storeWrite(let writes, let token):
                for write in writes {
                    switch write {
                    case .upsert(let record): stored[record.id] = record
                    case .cancelQueued(let id, let error, let at) where stored[id]?.state == .queued:
                        stored[id]?.state = .cancelled
                        stored[id]?.lastError = error
                        stored[id]?.finishedAt = at
                        stored[id]?.updatedAt = at
                    default: break
                    }
                }
                uncommitted.append(token)
            case .storeFinal(let record, _, let token):
                stored[record.id] = record
                uncommitted.append(token)
            case .storeRead(let query, let token):
                reads.append((token, .success(answer(query))))
            default: break
            }
        }
        return actions
    }

    /// What the store answers `query` with now.
    private func answer(_ query: StoreRead) -> StoreReadResult {
        switch query {
        case .job(let id): return .jobs(stored[id].map { [$0] } ?? [])
        case .jobs(let filter):
            let matching = stored.values.filter { record in
                (filter.states?.contains(record.state) ?? true) && (filter.function ?? record.function) == record.function
                    && record.id > (filter.afterID ?? 0)
            }
            return .jobs(Array(matching.sorted { $0.id < $1.id }.prefix(filter.limit)))
        default: return .purged(0)
        }
    }

    @discardableResult
    mutating func message(_ peer: PeerID, _ message: CoreMessage) -> [BrokerAction] {
        send(.message(from: peer, message))
    }

    /// SUBMIT of a job of `function` from `client`, not yet committed.
    @discardableResult
    mutating func submit(
        _ client: PeerID, _ requestID: UInt64, _ function: String = "f", spec: JobSpec = JobSpec(), tags: [String] = []
    ) -> [BrokerAction] {
        message(client, .submit(requestID: requestID, function: function, spec: spec, keys: JobKeys(), tags: tags, payload: [1, 2]))
    }

    /// Commits every write handed to the store so far.
    @discardableResult
    mutating func commit() -> [BrokerAction] {
        let tokens = uncommitted
        uncommitted = []
        committed = stored
        return send(.storeCommitted(tokens: tokens))
    }

    /// Puts `record` in the store as committed, as a store found at start holds it.
    mutating func seed(_ record: JobRecord) {
        stored[record.id] = record
        committed[record.id] = record
    }

    /// Fails every write handed to the store since the last commit: the store keeps the records
    /// as they were then, and the core hears of the failure.
    @discardableResult
    mutating func failWrites() -> [BrokerAction] {
        let tokens = uncommitted
        uncommitted = []
        stored = committed
        return send(.storeFailed(.database("disk I/O error"), tokens: tokens))
    }

    /// Delivers the answers of the oldest `limit` reads, in order.
    @discardableResult
    mutating func answerReads(limit: Int = .max) -> [BrokerAction] {
        var actions: [BrokerAction] = []
        for _ in 0..<min(limit, reads.count) {
            let (token, answer) = reads.removeFirst()
            actions += send(.storeRead(token: token, answer))
        }
        return actions
    }

    /// How many reads wait for their answer.
    var pendingReads: Int { reads.count }

    /// JOB from `client`.
    @discardableResult
    mutating func job(_ client: PeerID, _ requestID: UInt64, _ verb: JobVerb, _ id: Int64, wait: UInt32 = 0) -> [BrokerAction] {
        message(client, .job(requestID: requestID, verb: verb, jobID: UInt64(id), waitMilliseconds: wait))
    }

    /// Moves both clocks forward and ticks.
    @discardableResult
    mutating func tick(after milliseconds: Int64) -> [BrokerAction] {
        driver.core.wallNow += milliseconds
        driver.now += milliseconds
        return send(.tick)
    }
}

extension [BrokerAction] {
    /// JOB-REPLYs to clients, with the jobs they carry.
    var jobReplies: [(request: ClientRequest, jobs: [JobInfo])] {
        compactMap {
            guard case .jobReply(let client, let requestID, let answer) = $0 else { return nil }
            return (ClientRequest(client: client, requestID: requestID), answer.jobs)
        }
    }
    /// Job attempts sent to workers, as (dispatch id, job id).
    var jobAttempts: [(dispatchID: UInt64, job: Int64)] {
        compactMap {
            guard case .requestJob(_, let dispatchID, _, let header, _) = $0, let job = header.job else { return nil }
            return (dispatchID, Int64(job))
        }
    }
    /// The jobs whose final record is on disk, with the WAITs answered with them.
    var finishedJobs: [(record: JobRecord, notify: [ClientRequest])] {
        compactMap {
            guard case .jobFinished(let record, _, let notify) = $0 else { return nil }
            return (record, notify)
        }
    }
    /// ACCEPTED answers, as (request id, job id).
    var acceptedJobs: [(requestID: UInt64, job: Int64)] {
        compactMap {
            guard case .accepted(_, let requestID, let job) = $0 else { return nil }
            return (requestID, Int64(job))
        }
    }
}

/// JOB commands as the core answers them, with the store's side simulated.
@Suite("JOB commands")
struct JobCommandTests {
    /// Options with at most `resident` queued jobs in memory.
    func options(resident: Int = 100_000) -> BrokerOptions {
        var options = testOptions(grace: 60_000)
        options.maxResidentJobs = resident
        return options
    }

    @Test("JOB CANCEL answers the job's own record, cancelled, in every unfinished state")
    func cancelAnswersTheRecord() throws {
        var harness = JobHarness(options: options(resident: 4))
        harness.ready(worker1)
        // Job 1 fails its first attempt and waits for its retry; job 2 then runs.
        harness.submit(client1, 1, spec: JobSpec(priority: 3, maxAttempts: 3, backoffMilliseconds: 60_000), tags: ["a"])
        let first = try #require(harness.commit().jobAttempts.first)
        harness.tick(after: 10)
        let retry = harness.message(worker1, .failure(dispatchID: first.dispatchID, code: .handlerError, message: "boom"))
        #expect(retry.jobAttempts.isEmpty)
        harness.tick(after: 10)
        harness.submit(client1, 2, tags: ["b"])
        #expect(harness.commit().jobAttempts.map(\.job) == [2])
        // Job 3 is delayed, job 4 queued in memory; job 5, over the memory bound, queued on disk.
        harness.tick(after: 10)
        harness.submit(client1, 3, spec: JobSpec(runAt: harness.driver.core.wallNow + 60_000), tags: ["c"])
        harness.tick(after: 10)
        harness.submit(client1, 4, tags: ["d"])
        harness.commit()
        harness.tick(after: 10)
        harness.submit(client1, 5, tags: ["e"])
        harness.commit()
        #expect(harness.driver.core.jobs[5] == nil, "job 5 waits on disk")
        // Job 6 is not committed yet.
        harness.tick(after: 10)
        harness.submit(client1, 6, tags: ["f"])

        let expected: [(id: Int64, state: JobState, attempts: Int)] = [
            (6, .queued, 0), (1, .scheduled, 1), (2, .running, 1), (3, .scheduled, 0), (4, .queued, 0), (5, .queued, 0),
        ]
        for (id, state, attempts) in expected {
            let before = try #require(harness.stored[id])
            #expect(before.state == state, "job \(id)")
            var actions = harness.job(client2, UInt64(100 + id), .cancel, id)
            actions += harness.answerReads()
            #expect(actions.jobReplies.isEmpty, "job \(id): answered once the cancel has committed")
            actions += harness.commit()
            // The submit of job 6 is still acknowledged, in the same commit.
            #expect(actions.acceptedJobs.map(\.job) == (id == 6 ? [6] : []), "job \(id)")
            let reply = try #require(actions.jobReplies.first { $0.request.requestID == UInt64(100 + id) }, "job \(id)")
            let info = try #require(reply.jobs.first, "job \(id)")
            #expect(reply.jobs.count == 1)
            #expect(info.id == UInt64(id))
            #expect(info.state == "cancelled")
            #expect(info.function == "f", "job \(id)")
            #expect(info.attempts == attempts, "job \(id)")
            #expect(info.maxAttempts == before.maxAttempts, "job \(id)")
            #expect(info.priority == before.priority, "job \(id)")
            #expect(info.tags == before.tags, "job \(id)")
            #expect(info.createdAt == before.createdAt && info.createdAt > 0, "job \(id)")
            #expect(info.runAt == before.runAt, "job \(id)")
            #expect(info.lastError == "cancelled by a client", "job \(id)")
            #expect(harness.stored[id]?.state == .cancelled, "job \(id) is cancelled in the store")
        }
        // Nothing runs again.
        #expect(harness.ready(worker2).jobAttempts.isEmpty)
    }

    /// A core that holds at most 2 queued jobs in memory: jobs 1 and 2 are queued there, job 3
    /// waits on disk. No worker yet.
    func spilled() -> JobHarness {
        var harness = JobHarness(options: options(resident: 2))
        for request in UInt64(1)...3 {
            harness.submit(client1, request)
            harness.commit()
        }
        return harness
    }

    @Test("JOB WAIT on a job queued on disk is held until the job has run, then answered with its final record")
    func waitOnDiskIsHeld() throws {
        var harness = spilled()
        #expect(harness.driver.core.jobs[3] == nil, "job 3 waits on disk")
        var actions = harness.job(client1, 10, .wait, 3, wait: 60_000)
        actions += harness.answerReads()
        #expect(actions.jobReplies.isEmpty, "the WAIT is held")
        // A worker runs jobs 1 and 2; job 3 is then read back from disk and runs.
        actions = harness.ready(worker1)
        actions += harness.runAttempts(actions.jobAttempts, on: worker1)
        #expect(actions.jobAttempts.map(\.job) == [1, 2, 3])
        let finished = try #require(actions.finishedJobs.first { $0.record.id == 3 })
        #expect(finished.record.state == .succeeded)
        #expect(finished.notify == [ClientRequest(client: client1, requestID: 10)])
        #expect(actions.jobReplies.isEmpty)
        #expect(harness.driver.core.jobWaiters.isEmpty)
    }

    @Test("JOB WAIT on a job queued on disk is answered with the job as it is when the wait passes")
    func waitOnDiskTimesOut() throws {
        var harness = spilled()
        var actions = harness.job(client1, 10, .wait, 3, wait: 500)
        actions += harness.answerReads()
        #expect(actions.jobReplies.isEmpty, "the WAIT is held")
        actions = harness.tick(after: 499)
        actions += harness.answerReads()
        #expect(actions.jobReplies.isEmpty, "the wait has not passed")
        actions = harness.tick(after: 1)
        actions += harness.answerReads()
        let reply = try #require(actions.jobReplies.first)
        #expect(actions.jobReplies.count == 1)
        #expect(reply.request == ClientRequest(client: client1, requestID: 10))
        #expect(reply.jobs.map(\.id) == [3])
        #expect(reply.jobs.map(\.state) == ["queued"])
        #expect(harness.driver.core.jobWaiters.isEmpty)
        #expect(harness.driver.core.clients[client1]?.jobWaits.isEmpty == true)
    }

    @Test("JOB WAIT on a finished or unknown job is answered at once from the store")
    func waitOnFinished() throws {
        var harness = spilled()
        harness.job(client2, 20, .cancel, 1)
        var actions = harness.job(client1, 10, .wait, 1, wait: 60_000)
        actions += harness.job(client1, 11, .wait, 99, wait: 60_000)
        actions += harness.answerReads()
        #expect(actions.jobReplies.map(\.request.requestID) == [10, 11])
        #expect(actions.jobReplies.first?.jobs.map(\.state) == ["cancelled"])
        #expect(actions.jobReplies.last?.jobs.isEmpty == true)
        #expect(harness.driver.core.jobWaiters.isEmpty)
    }

    @Test("a job read back and finished while its WAIT's store read is under way answers that WAIT once")
    func waitRacesPageIn() throws {
        var harness = spilled()
        var actions = harness.ready(worker1)
        actions += harness.runAttempts(actions.jobAttempts, on: worker1, answeringReads: false)
        #expect(actions.jobAttempts.map(\.job) == [1, 2])
        #expect(harness.pendingReads == 1, "the page read for job 3")
        // The WAIT's read goes to the store after the page read: job 3 is queued in both answers.
        harness.job(client1, 10, .wait, 3, wait: 60_000)
        actions = harness.answerReads(limit: 1)
        actions += harness.runAttempts(actions.jobAttempts, on: worker1, answeringReads: false)
        #expect(actions.jobAttempts.map(\.job) == [3])
        let finished = try #require(actions.finishedJobs.first)
        #expect(finished.notify == [ClientRequest(client: client1, requestID: 10)])
        let late = harness.answerReads()
        #expect(late.jobReplies.isEmpty, "the WAIT was answered when the job finished")
        #expect(harness.driver.core.jobWaiters.isEmpty)
        #expect(harness.driver.core.clients[client1]?.jobWaits.isEmpty == true)
    }

    @Test("JOB CANCEL of a job queued on disk answers the WAITs held on it")
    func cancelOnDiskAnswersWaits() throws {
        var harness = spilled()
        var actions = harness.job(client1, 10, .wait, 3, wait: 60_000)
        actions += harness.answerReads()
        #expect(actions.jobReplies.isEmpty, "the WAIT is held")
        actions = harness.job(client2, 20, .cancel, 3)
        actions += harness.answerReads()
        actions += harness.commit()
        #expect(Set(actions.jobReplies.map(\.request.requestID)) == [10, 20])
        #expect(actions.jobReplies.allSatisfy { $0.jobs.map(\.state) == ["cancelled"] })
        #expect(harness.driver.core.jobWaiters.isEmpty)
        #expect(harness.driver.core.clients[client1]?.jobWaits.isEmpty == true)
    }

    @Test("CANCEL for a held JOB WAIT drops it unanswered; the job and other WAITs go on")
    func cancelDropsWait() throws {
        var harness = spilled()
        harness.job(client1, 10, .wait, 1, wait: 60_000)
        harness.job(client2, 10, .wait, 1, wait: 60_000)
        harness.job(client1, 11, .wait, 3, wait: 60_000)
        harness.answerReads()
        var cancelled = harness.message(client1, .cancel(requestID: 10))
        cancelled += harness.message(client1, .cancel(requestID: 11))
        #expect(cancelled.isEmpty, "CANCEL is never answered")
        #expect(harness.driver.core.jobWaiters[1]?.map(\.request) == [ClientRequest(client: client2, requestID: 10)])
        #expect(harness.driver.core.jobWaiters[3] == nil)
        // The jobs still run; only client 2's WAIT is answered.
        var actions = harness.ready(worker1)
        actions += harness.runAttempts(actions.jobAttempts, on: worker1)
        #expect(actions.finishedJobs.map(\.record.id) == [1, 2, 3])
        #expect(actions.finishedJobs.map(\.notify) == [[ClientRequest(client: client2, requestID: 10)], [], []])
        #expect(actions.jobReplies.isEmpty)
        #expect(harness.driver.core.clients.values.allSatisfy { $0.jobWaits.isEmpty }, "no WAIT left on record")
    }

    @Test("deadline entries of WAITs that ended early are dropped once they outnumber the held WAITs")
    func endedWaitsDoNotPileUp() throws {
        var harness = JobHarness(options: options())
        harness.ready(worker1)
        let slack = BrokerCore.deadlineSlack
        // Jobs run one after another, each with a day-long WAIT that its job's end answers.
        var answered = 0
        for round in 1...(3 * slack) {
            harness.submit(client1, UInt64(round))
            let attempts = harness.commit().jobAttempts
            let id = try #require(attempts.first?.job)
            harness.job(client2, UInt64(round), .wait, id, wait: 86_400_000)
            let finished = harness.runAttempts(attempts, on: worker1)
            answered += finished.finishedJobs.flatMap(\.notify).count
            // At most one WAIT is held at a time, so a rebuild comes at slack + 3 entries.
            #expect(harness.driver.core.waiterDeadlines.count <= slack + 2)
        }
        #expect(answered == 3 * slack)
        #expect(harness.driver.core.heldWaitCount == 0)
        #expect(harness.driver.core.waiterDeadlines.count <= slack + 2, "\(harness.driver.core.waiterDeadlines.count) entries left")
        // A WAIT still held keeps its entry through rebuilds and is answered when its time passes.
        harness.submit(client1, 10_000, spec: JobSpec(runAt: harness.driver.core.wallNow + 600_000))
        harness.commit()
        let delayed = try #require(harness.driver.core.jobs.keys.max())
        harness.job(client2, 10_000, .wait, delayed, wait: 1_000)
        for round in 1...(2 * slack) {
            harness.submit(client1, UInt64(20_000 + round))
            let attempts = harness.commit().jobAttempts
            harness.job(client2, UInt64(20_000 + round), .wait, try #require(attempts.first?.job), wait: 86_400_000)
            _ = harness.runAttempts(attempts, on: worker1)
        }
        #expect(harness.driver.core.heldWaitCount == 1)
        let actions = harness.tick(after: 1_000)
        #expect(actions.jobReplies.map(\.request) == [ClientRequest(client: client2, requestID: 10_000)])
        #expect(harness.driver.core.heldWaitCount == 0)
    }

    @Test("an expired client's held JOB WAITs are answered CLIENT_EXPIRED and dropped; the jobs go on")
    func expiryDropsWaits() throws {
        var harness = spilled()
        harness.job(client1, 10, .wait, 1, wait: 600_000)
        harness.job(client1, 11, .wait, 3, wait: 600_000)
        harness.job(client2, 12, .wait, 1, wait: 600_000)
        harness.answerReads()
        // Client 1 falls silent; client 2 keeps beating. Clients expire after 6000 ms.
        var actions: [BrokerAction] = []
        for _ in 0..<8 {
            harness.message(client2, .clientHeartbeat)
            actions += harness.tick(after: 1000)
            actions += harness.answerReads()
        }
        #expect(
            actions.failures == [
                SentFailure(client: client1, requestID: 10, code: .clientExpired),
                SentFailure(client: client1, requestID: 11, code: .clientExpired),
            ])
        #expect(actions.jobReplies.isEmpty)
        #expect(harness.driver.core.jobWaiters[1]?.map(\.request) == [ClientRequest(client: client2, requestID: 12)])
        #expect(harness.driver.core.jobWaiters[3] == nil)
        #expect(harness.driver.core.jobs[1]?.record.state == .queued, "the job goes on")
        actions = harness.ready(worker1)
        actions += harness.runAttempts(actions.jobAttempts, on: worker1)
        #expect(actions.finishedJobs.map(\.record.id) == [1, 2, 3])
        #expect(actions.finishedJobs.map(\.notify) == [[ClientRequest(client: client2, requestID: 12)], [], []])
        #expect(harness.driver.core.clients.values.allSatisfy { $0.jobWaits.isEmpty }, "no WAIT left on record")
    }
}

extension JobHarness {
    /// READY from `worker` serving `functions`.
    @discardableResult
    mutating func ready(_ worker: PeerID, _ functions: [String] = ["f"], concurrency: Int = 1) -> [BrokerAction] {
        message(worker, .ready(concurrency: concurrency, functions: functions.map { ServiceDescriptor(name: $0) }))
    }

    /// Answers each job attempt with a REPLY from `worker`, and the attempts that follow, committing
    /// the store's writes (and answering its reads) after each; returns everything that happened.
    mutating func runAttempts(
        _ attempts: [(dispatchID: UInt64, job: Int64)], on worker: PeerID, answeringReads: Bool = true
    ) -> [BrokerAction] {
        var all: [BrokerAction] = []
        var attempts = attempts
        while !attempts.isEmpty {
            let attempt = attempts.removeFirst()
            var step = message(worker, .reply(dispatchID: attempt.dispatchID, payload: driver.payload()))
            step += commit()
            if answeringReads { step += answerReads() }
            attempts += step.jobAttempts
            all += step
        }
        return all
    }
}
