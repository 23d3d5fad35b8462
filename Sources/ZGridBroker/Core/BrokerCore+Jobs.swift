import HeapModule
import ZGridJobStore
import ZGridProtocol

/// Durable background jobs: submit, dispatch on shared worker credit, leases, retries with
/// backoff, dead-lettering, cancel, wait, and recovery after a restart.
///
/// Every state change is handed to the job store (``BrokerAction/storeWrite(_:token:)``); a job is
/// acknowledged and dispatched only once the store has committed it.
extension BrokerCore {
    /// A placeholder client for calls that are job attempts (no client waits on the call itself).
    static let jobClient = PeerID([])

    // MARK: Recovery

    /// Takes the unfinished jobs found in the store at start: queued and scheduled ones wait again,
    /// ones that were running when the broker stopped run again (at-least-once). Schedules continue
    /// from their recorded slots (see ``recoverScheduleSlots(_:into:)``).
    public mutating func recoverJobs(
        _ records: [JobRecord], maxID: Int64, scheduleSlots slots: [String: ScheduleSlot] = [:], now: Int64,
        into actions: inout [BrokerAction]
    ) {
        nextJobID = max(nextJobID, maxID + 1)
        lastNow = max(lastNow, now)
        recoverScheduleSlots(slots, into: &actions)
        var rewritten: [StoreWrite] = []
        // The `cancelled` events of superseded jobs go out once their rewrites are on disk.
        var events: [BrokerAction] = []
        let superseded = Self.supersededAtRecovery(records)
        for var record in records where !record.state.isTerminal {
            if let holder = superseded[record.id] {
                record.state = .cancelled
                record.lastError = "superseded by job \(holder)"
                record.finishedAt = wallNow
                record.updatedAt = wallNow
                rewritten.append(.upsert(record))
                statistics.jobsSuperseded += 1
                statistics.jobsCancelled += 1
                events.append(jobEvent(.cancelled, record, attempt: record.attempts, error: record.lastError))
                continue
            }
            if record.state == .running {
                record = queuedAgainAfterStop(record)
                rewritten.append(.upsert(record))
                actions.append(cutShortEvent(record))
            }
            if let key = record.uniqueKey { uniqueJobs[key] = record.id }
            if let key = record.replaceKey { replaceJobs[key] = record.id }
            if record.state == .queued && jobs.count >= options.maxResidentJobs && mayWaitOnDisk(record) {
                spill(record)
                continue
            }
            jobs[record.id] = JobEntry(record: record, durable: true, dispatchID: nil)
            makeReady(record.id)
        }
        if !rewritten.isEmpty {
            let token = takeToken()
            actions.append(storeWrite(rewritten, token: token))
            answerAtCommit(token, events)
        }
        dispatchReadyJobs(now: now, into: &actions)
    }

    /// The broker is stopping gracefully: no job attempt starts from now on. Queued jobs stay
    /// queued (in the store, for the next start); attempts already running may finish.
    public mutating func stopStartingJobs() {
        stopping = true
    }

    // MARK: Client commands

    /// SUBMIT: a new job, persisted before it is acknowledged.
    mutating func submitJob(
        from client: PeerID, requestID: UInt64, function: String, spec: JobSpec, keys: JobKeys, tags: [String], payload: [UInt8],
        now: Int64, into actions: inout [BrokerAction]
    ) {
        let request = ClientRequest(client: client, requestID: requestID)
        let uniqueKey = keys.unique
        if let key = uniqueKey, let existing = uniqueJobs[key] {
            // Coalesced: the unfinished job with this key stands for this submit too (a job not in
            // memory waits on disk, so it is durable).
            if jobs[existing]?.durable ?? true {
                actions.append(.accepted(client: client, requestID: requestID, jobID: UInt64(existing)))
            } else {
                waitForCommit(request, of: existing)
            }
            return
        }
        if (jobsByClient[client] ?? 0) >= options.maxJobsPerClient {
            refuse(
                client, requestID, "this client has \(options.maxJobsPerClient) unfinished jobs in memory, the most allowed",
                retryAfter: 1000, payload: nil, countedIn: nil, into: &actions)
            return
        }
        // The length limit counts, and applies to, delayed jobs too; the wait limit only judges a job
        // that would queue now.
        if let (message, retryAfter) = jobRefusal(function, priority: Int(spec.priority), runsNow: spec.runAt <= wallNow, now: now) {
            // Admission happens before the job is acknowledged: nothing refused was accepted.
            refuse(client, requestID, message, retryAfter: retryAfter, payload: nil, countedIn: nil, into: &actions)
            return
        }
        let id = nextJobID
        nextJobID += 1
        // The job this one supersedes is cancelled in the same transaction that stores this one, so
        // that no crash leaves it cancelled without its successor (or both queued).
        var writes: [StoreWrite] = []
        var superseded: [BrokerAction] = []
        if let key = keys.replace, let earlier = replaceJobs[key] {
            if let cancelled = supersede(earlier, by: id, into: &superseded) {
                writes.append(.upsert(cancelled))
            } else if let cancel = supersedeOnDisk(earlier, by: id, into: &superseded) {
                writes.append(cancel)
            }
        }
        let runAt = spec.runAt > wallNow ? spec.runAt : wallNow
        var record = JobRecord(
            id: id, function: function, payload: payload, state: spec.runAt > wallNow ? .scheduled : .queued,
            priority: Int(spec.priority), attempts: 0, maxAttempts: Int(spec.maxAttempts),
            backoffMilliseconds: Int64(spec.backoffMilliseconds),
            timeLimitMilliseconds: spec.timeLimitMilliseconds == 0
                ? options.defaultJobTimeLimitMilliseconds : Int64(spec.timeLimitMilliseconds),
            resultTTLMilliseconds: spec.resultTTLSeconds == 0 ? options.defaultResultTTLMilliseconds : Int64(spec.resultTTLSeconds) * 1000,
            uniqueKey: uniqueKey, tags: tags, runAt: runAt, createdAt: wallNow, updatedAt: wallNow)
        record.fairnessKey = keys.fairness
        record.batchKey = keys.batch
        record.replaceKey = keys.replace
        record.sheddable = spec.isSheddable
        jobs[id] = JobEntry(record: record, durable: false, dispatchID: nil, owner: client)
        jobsByClient[client, default: 0] += 1
        if let uniqueKey { uniqueJobs[uniqueKey] = id }
        if let key = keys.replace { replaceJobs[key] = id }
        if record.state == .queued {
            uncommittedJobs[id] = function
            uncommittedByFunction[function, default: 0] += 1
        }
        let token = takeToken()
        pendingAcks[token, default: []].append((request, id))
        actions.append(storeWrite(writes + [.upsert(record)], token: token))
        // The superseded job's events and the WAITs on it are answered once its cancel is on disk.
        answerAtCommit(token, superseded)
    }

    /// A submitted job's write committed or failed: admission no longer counts it as uncommitted.
    mutating func uncommittedJobSettled(_ id: Int64) {
        guard let function = uncommittedJobs.removeValue(forKey: id) else { return }
        let left = (uncommittedByFunction[function] ?? 1) - 1
        uncommittedByFunction[function] = left > 0 ? left : nil
    }

    /// JOB: status, wait, cancel or retry one job.
    mutating func jobCommand(
        from client: PeerID, requestID: UInt64, verb: JobVerb, jobID: UInt64, wait: UInt32, now: Int64, into actions: inout [BrokerAction]
    ) {
        let request = ClientRequest(client: client, requestID: requestID)
        let id = Int64(truncatingIfNeeded: jobID)
        if holdBehindRetry(request, verb, on: id) { return }
        guard let entry = jobs[id] else {
            // Finished, unknown, or queued on disk: only the store knows. A WAIT is held from now
            // on, so that a job read back and finished before the store answers still answers it.
            if verb == .wait { holdWait(request, on: id, for: wait, now: now) }
            readJob(id, for: request, verb, into: &actions)
            return
        }
        switch verb {
        case .status, .retry:
            actions.append(.jobReply(client: client, requestID: requestID, answer: JobAnswer(jobs: [entry.record.info])))
        case .wait:
            holdWait(request, on: id, for: wait, now: now)
        case .cancel:
            cancelJob(id, for: request, into: &actions)
        }
    }

    /// JOBS: list or purge, answered by the store (after every write handed to it so far). A filter
    /// key the verb does not take is refused with MALFORMED rather than ignored: ignoring it would
    /// select more jobs than asked, and a purge would delete them.
    mutating func jobsCommand(from client: PeerID, requestID: UInt64, verb: JobsVerb, query: JobQuery, into actions: inout [BrokerAction]) {
        if let refusal = query.refusal(for: verb) {
            actions.append(.fail(client: client, requestID: requestID, code: .malformed, message: refusal))
            return
        }
        let request = ClientRequest(client: client, requestID: requestID)
        let states = Set((query.states ?? []).compactMap(JobState.init(rawValue:)))
        let token = takeToken()
        switch verb {
        case .list:
            let filter = JobFilter(
                states: query.states == nil ? nil : states, function: query.function, tag: query.tag,
                limit: min(max(query.limit ?? 100, 1), 10_000), afterID: query.afterID.map { Int64(truncatingIfNeeded: $0) })
            pendingReads[token] = .list(request)
            actions.append(.storeRead(.jobs(filter), token: token))
        case .purge:
            let terminal = Set(JobState.allCases.filter(\.isTerminal))
            pendingReads[token] = .purge(request)
            actions.append(
                .storeRead(
                    .purge(
                        states: query.states == nil ? terminal : states.intersection(terminal),
                        finishedBefore: query.finishedBefore ?? wallNow,
                        function: query.function, tag: query.tag), token: token))
        }
    }

    /// JOB CANCEL of job `id`, in memory: its attempt (if one runs) is cancelled at once, and the
    /// job leaves memory; `request` and the WAITs held on the job are answered with its cancelled
    /// record, and its `cancelled` event published, once the cancel's write has committed. An
    /// attempt that runs in a batch with other jobs still in it is not cancelled on the worker:
    /// the batch runs on for them, and this job's result in it is dropped.
    private mutating func cancelJob(_ id: Int64, for request: ClientRequest, into actions: inout [BrokerAction]) {
        guard var entry = jobs[id] else { return }
        if let dispatchID = entry.dispatchID, let call = calls[dispatchID], let worker = call.worker,
            !(call.batch ?? []).contains(where: { $0 != id && jobs[$0]?.dispatchID == dispatchID })
        {
            actions.append(.cancel(worker: worker, dispatchID: dispatchID))
            forget(dispatchID, into: &actions)
        }
        entry.dispatchID = nil
        jobs[id] = entry
        statistics.jobsCancelled += 1
        guard let (record, waiting) = retireJob(id, state: .cancelled, error: "cancelled by a client") else { return }
        writeCancel(record, answering: [request] + waiting, into: &actions)
    }

    // MARK: Store events

    /// Whether writes the core handed to the store wait to be committed before a client's submit,
    /// retry or cancel is answered, or a finished job's WAITs and event: a stop waits for them, so
    /// that no client is left without an answer for a job that is stored (or finished on disk).
    public var awaitsCommits: Bool { !pendingAcks.isEmpty || !answersAtCommit.isEmpty }

    /// The store made writes durable: acknowledge their submits and let their jobs run.
    mutating func storeCommitted(_ tokens: [UInt64], now: Int64, into actions: inout [BrokerAction]) {
        storeWritesSettled(tokens)
        for token in tokens {
            if let held = answersAtCommit.removeValue(forKey: token) { actions += held }
            guard let acks = pendingAcks.removeValue(forKey: token) else { continue }
            var held: [(id: Int64, commands: [(request: ClientRequest, verb: JobVerb)])] = []
            for (request, id) in acks {
                uncommittedJobSettled(id)
                if supersededBeforeCommit.remove(id) != nil { statistics.jobsAccepted += 1 }
                if var entry = jobs[id], !entry.durable {
                    entry.durable = true
                    statistics.jobsAccepted += 1
                    let note = scheduleNotes.isEmpty ? nil : scheduleNotes.removeValue(forKey: id)
                    actions.append(jobEvent(entry.record.state == .scheduled ? .scheduled : .queued, entry.record, message: note))
                    if entry.record.state == .queued && jobs.count > options.maxResidentJobs && mayWaitOnDisk(entry.record) {
                        // Over the memory bound: this job waits on disk until the queue drains.
                        jobs[id] = nil
                        releaseOwner(entry)
                        spill(entry.record)
                    } else {
                        jobs[id] = entry
                        makeReady(id)
                    }
                }
                if request.client != Self.jobClient {
                    actions.append(.accepted(client: request.client, requestID: request.requestID, jobID: UInt64(id)))
                } else if !pendingRetries.isEmpty {
                    held.append((id, retryCommitted(id, into: &actions)))
                }
            }
            for (id, commands) in held { handleHeld(commands, on: id, into: &actions) }
        }
        dispatchReadyJobs(now: now, into: &actions)
    }

    /// The store failed the transaction holding the writes with `tokens`: their submits and
    /// retries are not durable, so they fail. Writes with other tokens went (or go) into other
    /// transactions: theirs are answered when those commit or fail.
    mutating func storeFailed(_ error: JobStoreError, tokens: [UInt64], into actions: inout [BrokerAction]) {
        storeWritesSettled(tokens)
        var failed: [(ClientRequest, Int64)] = []
        var retries: [(Int64, PendingRetry)] = []
        for token in tokens {
            for (request, id) in pendingAcks.removeValue(forKey: token) ?? [] {
                failed.append((request, id))
                if request.client == Self.jobClient, let retry = pendingRetries.removeValue(forKey: id) {
                    failed.append((retry.request, id))
                    retries.append((id, retry))
                }
            }
        }
        var forgotten: [Int64] = []
        for (request, id) in failed {
            supersededBeforeCommit.remove(id)
            if !scheduleNotes.isEmpty { scheduleNotes[id] = nil }
            uncommittedJobSettled(id)
            if let entry = jobs[id], !entry.durable {
                jobs[id] = nil
                releaseOwner(entry)
                freeKeys(of: entry.record)
                forgotten.append(id)
            }
            if request.client != Self.jobClient {
                actions.append(
                    .fail(client: request.client, requestID: request.requestID, code: .internal, message: "the job store failed: \(error)"))
            }
        }
        retries.sort { $0.0 < $1.0 }
        failAnswersAtCommit(error, tokens: tokens, into: &actions)
        // No notice: the shell logs the failure itself, as an error. A protocol-violation notice
        // would log it again as a message dropped from no peer, and spend the rate-limited
        // notices that malformed messages from real peers need.
        // The commands held behind the failed RETRYs, then the WAITs held on the forgotten jobs,
        // meet the jobs as the store holds them: a retried job finished as it was, a new one not at
        // all. The store answers reads in order, so a WAIT whose job a held RETRY queues again
        // stays held on it (the RETRY's read comes back first).
        for (id, retry) in retries { handleHeld(retry.held, on: id, into: &actions) }
        for id in forgotten.sorted() {
            for waiter in jobWaiters[id] ?? [] { readJob(id, for: waiter.request, .wait, into: &actions) }
        }
    }

    /// The store answered a read.
    mutating func storeRead(_ token: UInt64, _ result: Result<StoreReadResult, JobStoreError>, into actions: inout [BrokerAction]) {
        guard let pending = pendingReads.removeValue(forKey: token) else { return }
        if case .pageIn(let function) = pending {
            pageIn(function, result, into: &actions)
            return
        }
        let request: ClientRequest
        switch pending {
        case .job(let r, let verb, let id):
            // Sent after a RETRY of the job that has since queued it again: held behind it (a WAIT
            // stays held on the job, answered when it finishes, its wait passes or the retry fails).
            if pendingRetries[id] != nil, verb == .wait || holdBehindRetry(r, verb, on: id) { return }
            request = r
        case .list(let r), .purge(let r): request = r
        case .pageIn: return
        }
        let answer: StoreReadResult
        switch result {
        case .success(let value): answer = value
        case .failure(let error):
            // A WAIT answered meanwhile (its job finished, or its wait passed) needs no answer.
            if case .job(_, .wait, let id) = pending, !releaseWait(request, on: id) { return }
            actions.append(
                .fail(client: request.client, requestID: request.requestID, code: .internal, message: "the job store failed: \(error)"))
            return
        }
        switch (pending, answer) {
        case (.job(_, .retry, let id), .jobs(let records)):
            // A job whose replace key another unfinished job holds is not queued again: it would run
            // beside (or supersede) the job that replaced it.
            guard let record = records.first, jobs[id] == nil, [.dead, .failed, .cancelled].contains(record.state),
                record.replaceKey.map({ replaceJobs[$0] == nil }) ?? true
            else {
                reply(request, records.map(\.info), into: &actions)
                return
            }
            // Queued again like a new job, so admitted like one: refused BUSY over the function's limits.
            if let (message, retryAfter) = jobRefusal(record.function, priority: record.priority, runsNow: true, now: lastNow) {
                refuse(
                    request.client, request.requestID, "job \(id) was not queued again: \(message)", retryAfter: retryAfter, payload: nil,
                    countedIn: nil, into: &actions)
                return
            }
            retryJob(record, for: request, into: &actions)
        case (.job(_, .wait, let id), .jobs(let records)):
            // Held since the JOB WAIT, unless the job finished or the wait passed meanwhile. A job
            // still unfinished (queued on disk) keeps it held; any other answer ends it.
            guard let waiter = jobWaiters[id]?.first(where: { $0.request == request }) else { return }
            if let record = records.first, !record.state.isTerminal, waiter.deadline > lastNow { return }
            releaseWait(request, on: id)
            reply(request, records.map(\.info), into: &actions)
        case (.job(_, .cancel, let id), .jobs(_)) where jobs[id] != nil:
            // Read back into memory (a page of queued jobs) while this read was under way: cancelled there.
            cancelJob(id, for: request, into: &actions)
        case (.job(_, .cancel, let id), .jobs(let records)):
            guard var record = records.first, record.state == .queued || record.state == .scheduled else {
                reply(request, records.map(\.info), into: &actions)
                return
            }
            // A queued job waiting on disk: cancelled there, counted off the jobs on disk at once, and
            // skipped if a page read under way lists it.
            if record.state == .queued && spilled[record.function] != nil {
                unspill(record.function)
                cancelledOnDisk.insert(id)
                spilledKeyHolders[id] = nil
            }
            record.state = .cancelled
            record.finishedAt = wallNow
            record.updatedAt = wallNow
            record.lastError = "cancelled by a client"
            freeKeys(of: record)
            statistics.jobsCancelled += 1
            writeCancel(record, answering: [request] + releaseWaits(on: id).map(\.request), into: &actions)
        case (.job, .jobs(let records)), (.list, .jobs(let records)):
            reply(request, records.map(\.info), into: &actions)
        case (.purge, .purged(let count)):
            actions.append(.jobReply(client: request.client, requestID: request.requestID, answer: JobAnswer(jobs: [], purged: count)))
        default:
            actions.append(
                .fail(client: request.client, requestID: request.requestID, code: .internal, message: "unexpected job store answer"))
        }
    }

    /// Answers `request` with JOB-REPLY carrying `jobs`, unless it stands for no client.
    func reply(_ request: ClientRequest, _ jobs: [JobInfo], into actions: inout [BrokerAction]) {
        guard request.client != Self.jobClient else { return }
        actions.append(.jobReply(client: request.client, requestID: request.requestID, answer: JobAnswer(jobs: jobs)))
    }

    // MARK: Dispatch

    /// Queues a job in its function's queue or the schedule, by its state. A queued job read from
    /// the store (at start, or paged in from disk) keeps the time it has waited since it was
    /// queued, so that aging ranks it by when it arrived, not by when it was read.
    private mutating func makeReady(_ id: Int64) {
        guard let entry = jobs[id], entry.durable else { return }
        switch entry.record.state {
        case .queued: pushQueued(entry.record, since: lastNow - min(max(0, wallNow - entry.record.updatedAt), Self.longestAgedWait))
        case .scheduled: scheduledJobs.insert(ScheduledJob(runAt: entry.record.runAt, id: id))
        case .deferred: deferredJobs.append(id)
        default: break
        }
    }

    /// How many job attempts `worker` may run at once: its concurrency less the reserve for calls.
    func jobSlots(of worker: WorkerRecord) -> Int {
        guard worker.capacity > 1 else { return worker.capacity }
        let reserve = max(options.jobReservePercent > 0 ? 1 : 0, (worker.capacity * options.jobReservePercent + 99) / 100)
        return max(0, worker.capacity - reserve)
    }

    /// Whether `worker` can take a job attempt now: it has credit and a job slot.
    func hasFreeJobSlot(_ worker: WorkerRecord) -> Bool {
        worker.hasCredit && worker.jobsInFlight < jobSlots(of: worker)
    }

    /// Gives queued jobs to workers with free job slots, for every function with queued jobs.
    mutating func dispatchReadyJobs(now: Int64, into actions: inout [BrokerAction]) {
        guard !stopping else { return }
        requestPages(into: &actions)
        for function in batchGroups.keys.sorted() { dispatchBatches(of: function, now: now, into: &actions) }
        for function in jobQueues.keys.sorted() {
            while !storeBacklogged, let peer = bestJobWorker(for: function),
                let id = nextQueuedJob(for: function, now: now, into: &actions)
            {
                dispatchJob(id, to: peer, now: now, into: &actions)
            }
        }
    }

    /// Gives `peer` queued jobs of its functions while it has free job slots.
    mutating func dispatchJobs(to peer: PeerID, now: Int64, into actions: inout [BrokerAction]) {
        guard !stopping, let worker = workers[peer], !worker.draining else { return }
        for function in worker.functions where batchGroups[function] != nil {
            dispatchBatches(of: function, to: peer, now: now, into: &actions)
        }
        for function in worker.functions where jobQueues[function] != nil {
            while !storeBacklogged, let current = workers[peer], hasFreeJobSlot(current),
                let id = nextQueuedJob(for: function, now: now, into: &actions)
            {
                dispatchJob(id, to: peer, now: now, into: &actions)
            }
        }
    }

    /// The next queued job of `function` to run: highest effective priority (aging), keys taking
    /// turns within a priority. Under overload, sheddable low-priority jobs met on the way are
    /// parked as deferred instead.
    private mutating func nextQueuedJob(for function: String, now: Int64, into actions: inout [BrokerAction]) -> Int64? {
        let aging = agingMilliseconds(for: function)
        while var queue = jobQueues[function] {
            let jobs = self.jobs
            let id = queue.popBest(now: now, agingMilliseconds: aging) { id in
                jobs[id]?.isWaitingToRun ?? false
            }
            jobQueues[function] = queue.isEmpty ? nil : queue
            guard let id else { return nil }
            if let record = jobs[id]?.record, shouldDefer(record, now: now) {
                deferJob(id, into: &actions)
                continue
            }
            return id
        }
        return nil
    }

    /// Puts a queued job in its function's wait queue, under its priority and fairness key, as
    /// waiting since `since` (monotonic ms; by default now).
    mutating func pushQueued(_ record: JobRecord, since: Int64? = nil) {
        let key = record.fairnessKey ?? ""
        let since = since ?? lastNow
        if waitsInBatch(record) {
            pushBatched(record)
        } else if record.sheddable && record.priority <= options.shedding.maxPriority {
            jobQueues[record.function, default: FunctionJobQueue()].sheddable.push(
                record.id, priority: record.priority, key: key, since: since)
        } else {
            jobQueues[record.function, default: FunctionJobQueue()].regular.push(
                record.id, priority: record.priority, key: key, since: since)
        }
    }

    /// The longest wait a job read from the store is credited with (a day): enough to age any
    /// priority to the top, and far from overflowing the monotonic clock's arithmetic.
    static let longestAgedWait: Int64 = 86_400_000

    /// Whether a queued job may wait only on disk when memory is full: not while its fairness key
    /// has few jobs in memory, so a key with a small share is never stuck behind a spilled backlog.
    private func mayWaitOnDisk(_ record: JobRecord) -> Bool {
        guard let key = record.fairnessKey else { return true }
        return (jobQueues[record.function]?.count(ofKey: key) ?? 0) >= Self.residentPerFairnessKey
    }

    /// Stops counting a job that leaves memory against the client that submitted it.
    private mutating func releaseOwner(_ entry: JobEntry) {
        guard let owner = entry.owner, let count = jobsByClient[owner] else { return }
        jobsByClient[owner] = count > 1 ? count - 1 : nil
    }

    /// Queued jobs of one fairness key that always stay in memory.
    static let residentPerFairnessKey = 100

    /// Leaves a queued job only on disk, to be paged in when the queue drains.
    private mutating func spill(_ record: JobRecord) {
        spilled[record.function] = spilled[record.function] ?? 0
        spilledCount += 1
        spilledByFunction[record.function, default: 0] += 1
        if record.replaceKey != nil { spilledKeyHolders[record.id] = SpilledKeyHolder(record) }
    }

    /// Frees the unique and replace keys `record`'s job holds, for later jobs to take.
    private mutating func freeKeys(of record: JobRecord) {
        if let key = record.uniqueKey, uniqueJobs[key] == record.id { uniqueJobs[key] = nil }
        if let key = record.replaceKey, replaceJobs[key] == record.id { replaceJobs[key] = nil }
    }

    /// Stops counting one queued job of `function` as waiting on disk (read back, or cancelled there).
    mutating func unspill(_ function: String) {
        spilledCount = max(0, spilledCount - 1)
        if let count = spilledByFunction[function] { spilledByFunction[function] = count > 1 ? count - 1 : 0 }
    }

    /// The least loaded worker of `function` with a free job slot.
    func bestJobWorker(for function: String) -> PeerID? {
        var best: (PeerID, WorkerRecord)?
        for peer in services[function]?.workers ?? [] {
            guard let candidate = workers[peer], hasFreeJobSlot(candidate) else { continue }
            if let (_, current) = best,
                candidate.inFlight.count * current.capacity >= current.inFlight.count * candidate.capacity
            {
                continue
            }
            best = (peer, candidate)
        }
        return best?.0
    }

    mutating func dispatchJob(_ id: Int64, to peer: PeerID, now: Int64, into actions: inout [BrokerAction]) {
        guard var entry = jobs[id] else { return }
        let dispatchID = nextDispatchID
        nextDispatchID += 1
        entry.startAttempt(on: peer, dispatchID: dispatchID, wallNow: wallNow)
        jobs[id] = entry
        let timeLimit = min(entry.record.timeLimitMilliseconds, policy(for: entry.record.function).timeLimitMilliseconds ?? .max)
        let header = CallHeader(
            priority: UInt8(entry.record.priority), attempt: UInt8(clamping: entry.record.attempts),
            timeoutMilliseconds: UInt32(clamping: timeLimit), job: UInt64(id))
        let call = CallRecord(
            client: Self.jobClient, requestID: 0, function: entry.record.function, service: entry.record.function, header: header,
            payload: nil, deadline: now + timeLimit, worker: peer, sequence: 0)
        call.job = id
        runAttempt(call, as: dispatchID, on: peer)
        actions.append(
            .requestJob(
                worker: peer, dispatchID: dispatchID, function: entry.record.function, header: header, payload: entry.record.payload))
        actions.append(storeWrite([.upsert(entry.record)], token: takeToken()))
        actions.append(jobEvent(.started, entry.record, worker: peer.description, attempt: entry.record.attempts))
    }

    /// Records a job attempt (or batch) as running on `peer`: its call, deadline and job slot.
    mutating func runAttempt(_ call: CallRecord, as dispatchID: UInt64, on peer: PeerID) {
        call.sequence = nextSequence
        nextSequence += 1
        calls[dispatchID] = call
        insertDeadline(DeadlineEntry(deadline: call.deadline, dispatchID: dispatchID))
        let worker = workers[peer]!
        worker.took(dispatchID, sequence: nextSequence)
        worker.jobAttempts.insert(dispatchID)
        nextSequence += 1
    }

    // MARK: Attempts ending

    /// A job attempt ended: success finishes the job; a failure retries it after a backoff or,
    /// with no attempts left, dead-letters it; one that the broker's stop cut short, or that a
    /// worker resuming its session did not have, is queued again (see
    /// ``requeueAttemptCutShort(_:error:into:)``).
    mutating func jobAttemptEnded(_ id: Int64, _ outcome: CallOutcome, into actions: inout [BrokerAction]) {
        guard var entry = jobs[id] else {
            if case .reply(let payload) = outcome { actions.append(.release(payload)) }
            return
        }
        entry.dispatchID = nil
        jobs[id] = entry
        progress.forget(id)
        switch outcome {
        case .reply(let payload):
            statistics.jobsSucceeded += 1
            finishJob(id, state: .succeeded, error: nil, result: payload, into: &actions)
        case .batch:
            jobAttemptEnded(id, .failure(.malformed, "a batch reply to a single job"), into: &actions)
        case .failure(let code, _) where attemptCutShortByStop(code):
            requeueAttemptCutShort(id, into: &actions)
        case .failure(.workerLost, _) where droppingResumedSession:
            requeueAttemptCutShort(id, error: Self.attemptLostAtResumeError, into: &actions)
        case .failure(let code, let text):
            let error = "\(code): \(text)"
            if entry.record.attempts < entry.record.maxAttempts {
                statistics.jobsRetried += 1
                let base = Double(max(1, entry.record.backoffMilliseconds))
                let exponential = base * Double(1 << min(entry.record.attempts - 1, 30))
                let delay = Int64(min(Double(options.maxBackoffMilliseconds), exponential * (0.5 + random.unit())))
                entry.record.state = .scheduled
                entry.record.runAt = wallNow + delay
                entry.record.lastError = error
                entry.record.updatedAt = wallNow
                jobs[id] = entry
                scheduledJobs.insert(ScheduledJob(runAt: entry.record.runAt, id: id))
                actions.append(storeWrite([.upsert(entry.record)], token: takeToken()))
                actions.append(
                    jobEvent(
                        .retried, entry.record, attempt: entry.record.attempts, error: error,
                        message: "next attempt in \(delay) ms"))
            } else {
                statistics.jobsDead += 1
                actions.append(.notice(.jobDead(id: id, function: entry.record.function, attempts: entry.record.attempts, error: error)))
                finishJob(id, state: .dead, error: error, result: nil, into: &actions)
            }
        }
    }

    /// A job of a batch succeeded with `result`.
    mutating func jobSucceeded(_ id: Int64, result: [UInt8], into actions: inout [BrokerAction]) {
        guard var entry = jobs[id] else { return }
        entry.dispatchID = nil
        entry.record.result = result
        jobs[id] = entry
        progress.forget(id)
        statistics.jobsSucceeded += 1
        finishJob(id, state: .succeeded, error: nil, result: nil, into: &actions)
    }

    /// Moves a job to a final state and hands it to the store; everyone waiting on it is answered,
    /// and its final event published, once that write has committed.
    private mutating func finishJob(
        _ id: Int64, state: JobState, error: String?, result: PayloadHandle?, into actions: inout [BrokerAction]
    ) {
        guard let (record, waiting) = retireJob(id, state: state, error: error) else { return }
        writeFinal(record, result: result, answering: waiting, into: &actions)
    }

    /// Takes job `id` out of memory in the final `state`: its keys are free again and the JOB WAITs
    /// held on it are released. Returns its final record (for the store) and those WAITs (to answer
    /// with it), or nil when the job is not in memory.
    mutating func retireJob(_ id: Int64, state: JobState, error: String?) -> (record: JobRecord, waiting: [ClientRequest])? {
        guard var entry = jobs.removeValue(forKey: id) else { return nil }
        if entry.record.state == .scheduled && entry.durable { forgetRunAt() }
        if entry.isWaitingToRun && !waitsInBatch(entry.record) { queueEntryWentStale(entry.record) }
        releaseOwner(entry)
        progress.forget(id)
        if !pagesInFlight.isEmpty { finishedDuringPage.insert(id) }
        entry.record.state = state
        // A success clears the error of an earlier attempt: `lastError` says why the last one failed.
        if let error { entry.record.lastError = error } else if state == .succeeded { entry.record.lastError = nil }
        entry.record.finishedAt = wallNow
        entry.record.updatedAt = wallNow
        freeKeys(of: entry.record)
        return (entry.record, releaseWaits(on: id).map(\.request))
    }

    /// Counts the queue entry of `record`'s job, which left memory while queued, as stale: admission
    /// no longer counts it. Once stale entries are the majority of its queue, the queue is
    /// compacted, so that a storm of cancels leaves no backlog for dispatch to pass over.
    private mutating func queueEntryWentStale(_ record: JobRecord) {
        guard jobQueues[record.function] != nil else { return }
        jobQueues[record.function]!.entryWentStale(priority: record.priority)
        guard jobQueues[record.function]!.isMostlyStale else { return }
        let jobs = self.jobs
        jobQueues[record.function]!.compact { jobs[$0]?.isWaitingToRun ?? false }
        if jobQueues[record.function]!.isEmpty { jobQueues[record.function] = nil }
    }

    // MARK: Time

    /// Moves due scheduled jobs to their queues, answers expired waits, dispatches.
    mutating func jobTick(now: Int64, into actions: inout [BrokerAction]) {
        fireSchedules(into: &actions)
        shedQueued(now: now, into: &actions)
        sweepDeferred(now: now, into: &actions)
        if now >= nextExpiryAt {
            // Results past their time-to-live are deleted in the store, once a minute (the answer,
            // a count, needs no handling: no pending read is recorded for it).
            nextExpiryAt = now + 60_000
            actions.append(.storeRead(.expire(now: wallNow), token: takeToken()))
        }
        var moved: [StoreWrite] = []
        while let first = scheduledJobs.min, first.runAt <= wallNow {
            scheduledJobs.removeMin()
            guard var entry = jobs[first.id], entry.record.state == .scheduled, entry.record.runAt == first.runAt else {
                staleRunAts = max(0, staleRunAts - 1)
                continue
            }
            entry.record.state = .queued
            entry.record.updatedAt = wallNow
            jobs[first.id] = entry
            pushQueued(entry.record)
            moved.append(.upsert(entry.record))
            actions.append(jobEvent(.queued, entry.record))
        }
        if !moved.isEmpty { actions.append(storeWrite(moved, token: takeToken())) }
        while let first = waiterDeadlines.min, first.deadline <= now {
            waiterDeadlines.removeMin()
            guard
                let waiter = releaseWait(
                    on: first.jobID, where: { $0.request.requestID == first.requestID && $0.deadline == first.deadline })
            else { continue }
            // Behind a RETRY of the job awaiting its commit, answered after it (as STATUS).
            if holdBehindRetry(waiter.request, .status, on: first.jobID) { continue }
            if let entry = jobs[first.jobID] {
                actions.append(
                    .jobReply(
                        client: waiter.request.client, requestID: waiter.request.requestID, answer: JobAnswer(jobs: [entry.record.info])))
            } else {
                // Queued on disk (or its store read still under way): answered as STATUS.
                readJob(first.jobID, for: waiter.request, .status, into: &actions)
            }
        }
        if !moved.isEmpty || !jobQueues.isEmpty || !batchGroups.isEmpty { dispatchReadyJobs(now: now, into: &actions) }
    }

    /// A delayed job (or one backing off) left memory before its run-at (cancelled, superseded):
    /// its entry in ``scheduledJobs`` stays until that run-at, which may be years away. Once such
    /// stale entries outnumber the live ones (and are over 1024), the heap is rebuilt without them.
    mutating func forgetRunAt() {
        staleRunAts += 1
        guard staleRunAts > 1024, staleRunAts * 2 > scheduledJobs.count else { return }
        scheduledJobs = Heap(
            scheduledJobs.unordered.filter { due in
                guard let record = jobs[due.id]?.record else { return false }
                return record.state == .scheduled && record.runAt == due.runAt
            })
        staleRunAts = 0
    }

    /// When the job side next needs a tick, in monotonic milliseconds, given `now`.
    func nextJobWakeup(now: Int64) -> Int64? {
        var wake: Int64?
        // A delayed job's run-at and a schedule's slot are wall-clock times.
        var due = scheduledJobs.min?.runAt
        if let slot = nextScheduleDue { due = min(due ?? slot, slot) }
        if let due { wake = now + (due <= wallNow ? 0 : due - wallNow) }
        if let first = waiterDeadlines.min { wake = min(wake ?? first.deadline, first.deadline) }
        if let due = nextBatchDue { wake = min(wake ?? due, max(due, now)) }
        return wake
    }

    // MARK: Paging queued jobs in from disk

    /// When memory has room again, asks the store for the next queued jobs of each spilled function.
    mutating func requestPages(into actions: inout [BrokerAction]) {
        guard !spilled.isEmpty, jobs.count < options.maxResidentJobs / 2 else { return }
        let page = max(1, options.maxResidentJobs / 4)
        for (function, after) in spilled.sorted(by: { $0.key < $1.key }) where !pagesInFlight.contains(function) {
            pagesInFlight.insert(function)
            let token = takeToken()
            pendingReads[token] = .pageIn(function)
            actions.append(.storeRead(.jobs(JobFilter(states: [.queued], function: function, limit: page, afterID: after)), token: token))
        }
    }

    /// A page of on-disk queued jobs arrived: they join the in-memory queues.
    private mutating func pageIn(_ function: String, _ result: Result<StoreReadResult, JobStoreError>, into actions: inout [BrokerAction]) {
        pagesInFlight.remove(function)
        defer { if pagesInFlight.isEmpty { finishedDuringPage.removeAll() } }
        guard case .success(.jobs(let records)) = result else { return }
        var highest = spilled[function] ?? 0
        for record in records {
            highest = max(highest, record.id)
            spilledKeyHolders[record.id] = nil
            guard jobs[record.id] == nil, cancelledOnDisk.remove(record.id) == nil, !finishedDuringPage.contains(record.id) else {
                continue
            }
            jobs[record.id] = JobEntry(record: record, durable: true, dispatchID: nil)
            unspill(function)
            makeReady(record.id)
        }
        if records.count < max(1, options.maxResidentJobs / 4) {
            // Everything on disk has been read back: nothing of the function is counted there any more.
            spilled[function] = nil
            spilledCount = max(0, spilledCount - (spilledByFunction.removeValue(forKey: function) ?? 0))
            if !spilledKeyHolders.isEmpty { spilledKeyHolders = spilledKeyHolders.filter { $0.value.function != function } }
            if spilled.isEmpty && pagesInFlight.isEmpty { cancelledOnDisk.removeAll() }
        } else {
            spilled[function] = highest
        }
        dispatchReadyJobs(now: lastNow, into: &actions)
    }

    // MARK: Helpers

    /// Asks the store for job `id`, to carry out the JOB command `request` (`verb`) with its answer.
    mutating func readJob(_ id: Int64, for request: ClientRequest, _ verb: JobVerb, into actions: inout [BrokerAction]) {
        let token = takeToken()
        pendingReads[token] = .job(request, verb, id)
        actions.append(.storeRead(.job(id), token: token))
    }

    /// Holds the JOB WAIT `request` on job `id` until the job finishes or `wait` ms have passed.
    private mutating func holdWait(_ request: ClientRequest, on id: Int64, for wait: UInt32, now: Int64) {
        let deadline = now + Int64(wait)
        jobWaiters[id, default: []].append(JobWaiter(request: request, deadline: deadline))
        heldWaitCount += 1
        // Entries of WAITs that ended early (their job finished, CANCEL, expiry) are skipped when
        // they come up, and dropped by a rebuild once they outnumber the held ones.
        waiterDeadlines.insert(
            WaiterDeadline(deadline: deadline, jobID: id, requestID: request.requestID), live: heldWaitCount,
            slack: Self.deadlineSlack,
            rebuiltFrom: jobWaiters.lazy.flatMap { id, waiters in
                waiters.lazy.map { WaiterDeadline(deadline: $0.deadline, jobID: id, requestID: $0.request.requestID) }
            })
        clientRecord(request.client, now: now).jobWaits[request.requestID] = id
    }

    /// Stops holding the JOB WAIT `request` on job `id`; returns whether it was held.
    @discardableResult
    private mutating func releaseWait(_ request: ClientRequest, on id: Int64) -> Bool {
        releaseWait(on: id, where: { $0.request == request }) != nil
    }

    /// Stops holding the first JOB WAIT on job `id` that `matches`, returning it.
    private mutating func releaseWait(on id: Int64, where matches: (JobWaiter) -> Bool) -> JobWaiter? {
        guard var waiters = jobWaiters[id], let index = waiters.firstIndex(where: matches) else { return nil }
        let waiter = waiters.remove(at: index)
        jobWaiters[id] = waiters.isEmpty ? nil : waiters
        heldWaitCount -= 1
        unindexWait(waiter.request, on: id)
        return waiter
    }

    /// Stops holding every JOB WAIT on job `id`, returning them.
    mutating func releaseWaits(on id: Int64) -> [JobWaiter] {
        let waiters = jobWaiters.removeValue(forKey: id) ?? []
        heldWaitCount -= waiters.count
        for waiter in waiters { unindexWait(waiter.request, on: id) }
        return waiters
    }

    /// Removes a released JOB WAIT from its client's record.
    private mutating func unindexWait(_ request: ClientRequest, on id: Int64) {
        guard clients[request.client]?.jobWaits[request.requestID] == id else { return }
        clients[request.client]?.jobWaits[request.requestID] = nil
    }

    /// CANCEL from a client naming a held JOB WAIT: the WAIT is dropped unanswered; the job goes on.
    mutating func cancelWait(from client: PeerID, requestID: UInt64) {
        guard let id = clients[client]?.jobWaits[requestID] else { return }
        releaseWait(ClientRequest(client: client, requestID: requestID), on: id)
    }

    /// Drops the held JOB WAITs of an expired client (`waits`, from its forgotten record), each
    /// answered ERROR client-expired; the jobs go on.
    mutating func dropWaits(of client: PeerID, _ waits: [UInt64: Int64], into actions: inout [BrokerAction]) {
        for (requestID, id) in waits.sorted(by: { $0.key < $1.key })
        where releaseWait(ClientRequest(client: client, requestID: requestID), on: id) {
            actions.append(
                .fail(
                    client: client, requestID: requestID, code: .clientExpired,
                    message: "no heartbeat from this client for \(2 * options.heartbeat.expiryMilliseconds) ms; job wait dropped"))
        }
    }

    private mutating func waitForCommit(_ request: ClientRequest, of id: Int64) {
        for (token, acks) in pendingAcks where acks.contains(where: { $0.1 == id }) {
            pendingAcks[token]!.append((request, id))
            return
        }
    }

    mutating func takeToken() -> UInt64 {
        defer { nextStoreToken += 1 }
        return nextStoreToken
    }

    /// Unfinished jobs by state, for status output; `queued_on_disk` counts queued jobs not in memory.
    public var jobCounts: [String: Int] {
        var counts: [String: Int] = [:]
        for entry in jobs.values { counts[entry.record.state.rawValue, default: 0] += 1 }
        if spilledCount > 0 { counts["queued_on_disk"] = spilledCount }
        return counts
    }
}
