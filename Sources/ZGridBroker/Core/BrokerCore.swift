import DequeModule
import HeapModule
import ZGridJobStore
import ZGridProtocol

/// The broker's routing logic as a pure state machine: events in, actions out, no I/O.
///
/// It tracks workers and their credit (the concurrency each announced), queues calls no worker can
/// take yet, expires deadlines, exchanges heartbeats and drops silent peers. The poll loop in
/// ``BrokerServer`` decodes messages, feeds them to ``handle(_:now:into:)`` and carries out the
/// returned actions. Time is passed in (`now`, monotonic milliseconds), so tests drive it directly.
///
/// Its records of workers, services, clients and calls are objects, changed in place as events
/// come in: a copy of a core shares them with the original, so drive one core per broker and do
/// not keep copies of it.
public struct BrokerCore {
    /// The options in force.
    public let options: BrokerOptions
    /// Counters since start.
    public internal(set) var statistics = BrokerStatistics()

    let startedAt: Int64
    var workers: [PeerID: WorkerRecord] = [:]
    /// Whether a worker that heartbeats only while idle (MDP) ever registered: until one has, a call
    /// that ends needs no lookup of its worker for ``noteCallLeft(_:now:)``.
    var quietWorkersSeen = false
    var services: [String: ServiceRecord] = [:] {
        didSet { lastService = nil }  // any change may drop or replace the remembered record
    }
    /// The service record the last call looked up, by its key: a burst of calls to one function
    /// compares the name instead of hashing it for each call. Forgotten whenever `services` changes.
    var lastService: (key: String, record: ServiceRecord)?
    var calls = IDMap<CallRecord>()
    /// The functions served by at least one worker that is not draining, with how many: kept as
    /// workers join and leave their services (``ServiceRecord/add(_:_:)`` and
    /// ``ServiceRecord/remove(_:)``), for the snapshot the loop publishes about every 20 ms.
    public private(set) var servedFunctions: [String: Int] = [:]
    /// How many of ``calls`` carry a batch of jobs: while none does, a REPLY needs no lookup to tell.
    var batchCallsLive = 0
    /// A plain dictionary, not an ``IDMap``: through IDMap, the in-place updates of a scatter's
    /// open set (`scatters[id]?.open.insert(…)`) cost about two allocations per part more.
    var scatters: [UInt64: ScatterRecord] = [:]
    var scattersByClientKey: [ClientCallKey: UInt64] = [:]
    /// The shard count of each sharded function, as its workers announced it.
    var shardTotals: [String: Int] = [:]
    /// The routing keys of each sharded function's shards, by shard index.
    var shardKeys: [String: [String]] = [:]

    // Background jobs.
    var jobs = JobTable()
    var jobQueues: [String: FunctionJobQueue] = [:]
    var scheduledJobs = Heap<ScheduledJob>()
    /// Entries of ``scheduledJobs`` whose job has left memory (or at most that many).
    var staleRunAts = 0
    var nextJobID: Int64 = 1
    var nextStoreToken: UInt64 = 1
    /// Writes handed to the store that have not committed or failed yet (see ``storeWrite(_:token:)``).
    public internal(set) var storeWritesWaiting = 0
    var pendingAcks: [UInt64: [(ClientRequest, Int64)]] = [:]
    /// Answers and events held until the store write with their token commits (a JOB CANCEL's
    /// answer and its job's `cancelled` event): see ``answerAtCommit(_:_:)``.
    var answersAtCommit: [UInt64: [BrokerAction]] = [:]
    var pendingReads: [UInt64: PendingRead] = [:]
    /// Whether the broker is stopping gracefully and starts no more job attempts.
    var stopping = false
    /// Whether new work is refused (the broker stops, or was asked to refuse before its stop): a
    /// queued call whose function has no worker left then fails at once, as no worker is coming.
    public internal(set) var refusingNewWork = false
    /// JOB RETRYs answered once their write commits, by job, with the commands held behind them.
    var pendingRetries: [Int64: PendingRetry] = [:]
    var jobWaiters: [Int64: [JobWaiter]] = [:]
    /// How many JOB WAITs `jobWaiters` holds in all (the live entries of `waiterDeadlines`).
    var heldWaitCount = 0
    var waiterDeadlines = DeadlineQueue<WaiterDeadline>()
    var uniqueJobs: [String: Int64] = [:]
    /// Functions with queued jobs that wait only on disk, with the highest id read back so far.
    var spilled: [String: Int64] = [:]
    /// Functions whose next page of queued jobs is being read from disk.
    var pagesInFlight: Set<String> = []
    /// Queued jobs waiting only on disk (an estimate for status reports).
    var spilledCount = 0
    /// On-disk queued jobs cancelled since they were spilled (skipped when read back).
    var cancelledOnDisk: Set<Int64> = []
    /// The queued jobs with a replace key that wait only on disk, by id: what a later job with
    /// the key needs to supersede one there.
    var spilledKeyHolders: [Int64: SpilledKeyHolder] = [:]
    /// Jobs that finished while a page read was under way: the page may still list them as
    /// queued (their final write came after the read), so they are skipped.
    var finishedDuringPage: Set<Int64> = []
    /// When the store next deletes expired results (monotonic ms).
    var nextExpiryAt: Int64 = 0
    /// The last fired slot of each schedule (ms since 1970).
    var scheduleSlots: [String: Int64] = [:]
    /// The note of each schedule job not yet committed whose slot coalesced missed ones: its
    /// `queued` event carries it.
    var scheduleNotes: [Int64: String] = [:]
    /// The earliest wall time (ms since 1970) at which a schedule may have a slot to fire, so that
    /// ticks and ``nextWakeup`` need not walk the schedules: `Int64.min` until the next tick works
    /// it out, nil without schedules.
    var nextScheduleDue: Int64?
    /// The wall time of the last walk of the schedules.
    var schedulesWalkedAt: Int64 = .min
    var random = CoreRandom(seed: 0x5EED)
    /// Progress reports held back by coalescing, by job, with when each job last had one published.
    var progress = ProgressCoalescer()
    /// Drain rates of calls and of job attempts, by function, for admission's retry-after times.
    var callRates: [String: RateMeter] = [:]
    /// Call completions not yet counted in `callRates`, all of one function: a burst of answers to
    /// one function compares the name instead of hashing it for each call. Folded in before the
    /// rates are updated, and when another function completes.
    var uncountedCalls: (function: String, count: Int, since: Int64)?
    /// When drain rates are next brought up to date (monotonic ms).
    var nextRateUpdateAt: Int64 = 0
    var jobRates: [String: RateMeter] = [:]
    /// Jobs parked by load shedding, oldest first.
    var deferredJobs: Deque<Int64> = []
    /// Since when the broker has not been overloaded (nil while it is).
    var calmSince: Int64?
    /// The last overload check.
    var overloadCheck: (at: Int64, value: Bool) = (-1, false)
    /// Queued jobs waiting only on disk, by function.
    var spilledByFunction: [String: Int] = [:]
    /// Submitted (or retried) jobs to run now whose write has not committed yet, by id, with their
    /// function: admission counts them as queued, so that a burst of SUBMITs or RETRYs cannot pass
    /// a queue limit.
    var uncommittedJobs: [Int64: String] = [:]
    /// How many of `uncommittedJobs` each function has.
    var uncommittedByFunction: [String: Int] = [:]
    /// Unfinished jobs in memory by the client that submitted them (for `maxJobsPerClient`).
    var jobsByClient: [PeerID: Int] = [:]
    /// The unfinished job holding each replace key.
    var replaceJobs: [String: Int64] = [:]
    /// Submitted jobs superseded before their own write committed: counted as accepted when it does.
    var supersededBeforeCommit: Set<Int64> = []
    /// How the latest worker declaring each batch-capable function takes batches.
    var batchSpecs: [String: BatchSpec] = [:]
    /// Queued jobs of batch-capable functions, by function and batch key.
    var batchGroups: [String: [String: BatchGroup]] = [:]
    /// The monotonic time of the last event.
    var lastNow: Int64 = 0
    /// When the message being handled arrived, in monotonic nanoseconds: set by the shell before it
    /// hands in a CALL, for the call's duration (see ``CallCompletion``).
    public var arrivalNanoseconds: UInt64 = 0
    /// Calls answered since the shell last counted them (and called ``clearCompletedCalls()``).
    public internal(set) var completedCalls: [CallCompletion] = []
    /// Wall-clock time in milliseconds since 1970, set by the shell before each event; job
    /// run-at times and timestamps use it.
    public var wallNow: Int64 = 0
    var clients: [PeerID: ClientRecord] = [:]
    var deadlines = DeadlineQueue<DeadlineEntry>()
    var nextDispatchID: UInt64 = 1
    var nextSequence: UInt64 = 1
    /// Set while the earlier session of a worker that resumed it is dropped: its job attempts the
    /// worker did not list never reached it, and are queued again without counting (see
    /// ``resumeSession(_:as:_:now:into:)``).
    var droppingResumedSession = false
    private var nextHeartbeatAt: Int64
    /// When the last tick was handled: a much later tick means the broker itself stalled (see
    /// ``forgiveOwnStall(now:into:)``).
    var lastTickAt: Int64
    /// Until when a closed connection does not make a worker lost, after the broker stalled: a
    /// worker that reconnected meanwhile is about to register again and take its calls over.
    var connectionLossIgnoredUntil: Int64 = .min

    /// Creates a core that starts at `now`.
    public init(options: BrokerOptions = .init(), now: Int64) {
        self.options = options
        startedAt = now
        lastNow = now
        lastTickAt = now
        nextHeartbeatAt = now + options.heartbeat.intervalMilliseconds
        nextScheduleDue = options.schedules.isEmpty ? nil : .min
    }

    // MARK: Inspection

    /// How many workers are registered (draining ones included).
    public var workerCount: Int { workers.count }
    /// How many calls are queued or running.
    public var callsInFlight: Int { calls.count }
    /// How many calls wait in queues.
    public var queuedCallCount: Int { calls.values.count(where: { $0.worker == nil }) }
    /// Whether some worker that is not draining serves `function` now.
    public func isServed(_ function: String) -> Bool {
        FunctionName.isValid(function) && hasWorkers(for: function)
    }
    /// Whether some worker that is not draining serves `function`, a name already checked.
    func hasWorkers(for function: String) -> Bool {
        !(services[function]?.workers.isEmpty ?? true)
    }
    /// Calls running on `worker`, or nil when the worker is unknown.
    public func inFlightCount(of worker: PeerID) -> Int? { workers[worker]?.inFlight.count }

    /// When the core next wants a ``BrokerEvent/tick``, in monotonic milliseconds.
    public var nextWakeup: Int64 {
        var wake = nextHeartbeatAt
        if let first = deadlines.min { wake = min(wake, first.deadline) }
        if let jobs = nextJobWakeup(now: lastNow) { wake = min(wake, jobs) }
        if let progress = nextProgressFlush { wake = min(wake, progress) }
        if let sweep = nextSweep(now: lastNow) { wake = min(wake, sweep) }
        if options.shedding.enabled, jobQueues.values.contains(where: { !$0.sheddable.isEmpty }) {
            wake = min(wake, lastNow + 50)  // load shedding watches for overload
        }
        return wake
    }

    // MARK: Events

    /// Handles one event at time `now`, appending the resulting actions to `actions`.
    public mutating func handle(_ event: BrokerEvent, now: Int64, into actions: inout [BrokerAction]) {
        lastNow = now
        switch event {
        case .message(let peer, let message):
            handle(message, from: peer, now: now, into: &actions)
        case .malformed(let peer, let reason):
            statistics.malformedMessages += 1
            actions.append(.notice(.malformed(peer, reason)))
        case .tick:
            tick(now: now, into: &actions)
        case .connectionClosed(let peer):
            guard now >= connectionLossIgnoredUntil else { return }
            loseWorker(peer, reason: "its connection closed", now: now, into: &actions)
        case .storeCommitted(let tokens):
            storeCommitted(tokens, now: now, into: &actions)
        case .storeRead(let token, let result):
            storeRead(token, result, into: &actions)
        case .storeFailed(let error, let tokens):
            storeFailed(error, tokens: tokens, into: &actions)
        }
    }

    private mutating func handle(_ message: CoreMessage, from peer: PeerID, now: Int64, into actions: inout [BrokerAction]) {
        switch message {
        case .call(let requestID, let function, let header, let payload):
            let caller = touchClient(peer, now: now)
            acceptCall(
                from: peer, caller, requestID: requestID, function: function, header: header, payload: payload, now: now,
                into: &actions)
        case .scatter(let requestID, let function, let header, let spec, let payload, let inputs):
            let caller = touchClient(peer, now: now)
            acceptScatter(
                from: peer, caller, requestID: requestID, function: function, header: header, spec: spec, payload: payload, inputs: inputs,
                now: now, into: &actions)
        case .cancel(let requestID):
            let caller = touchClient(peer, now: now)
            cancelCall(from: peer, caller, requestID: requestID, into: &actions)
        case .submit(let requestID, let function, let spec, let keys, let tags, let payload):
            touchClient(peer, now: now)
            submitJob(
                from: peer, requestID: requestID, function: function, spec: spec, keys: keys, tags: tags, payload: payload,
                now: now, into: &actions)
        case .job(let requestID, let verb, let jobID, let wait):
            touchClient(peer, now: now)
            jobCommand(from: peer, requestID: requestID, verb: verb, jobID: jobID, wait: wait, now: now, into: &actions)
        case .jobs(let requestID, let verb, let query):
            touchClient(peer, now: now)
            jobsCommand(from: peer, requestID: requestID, verb: verb, query: query, into: &actions)
        case .clientHeartbeat:
            touchClient(peer, now: now)
            actions.append(.heartbeatClient(peer))
        case .ready(let concurrency, let functions, let heartbeats, let resume, let key):
            registerWorker(
                peer, concurrency: concurrency, functions: functions, heartbeats: heartbeats, resume: resume, key: key, now: now,
                into: &actions)
        case .reply(let dispatchID, let payload):
            guard let worker = touchWorker(peer, now: now, into: &actions) else {
                actions.append(.release(payload))
                return
            }
            completeCall(dispatchID, on: peer, worker, outcome: .reply(payload), now: now, into: &actions)
        case .batchReply(let dispatchID, let results):
            guard let worker = touchWorker(peer, now: now, into: &actions) else { return }
            completeCall(dispatchID, on: peer, worker, outcome: .batch(results), now: now, into: &actions)
        case .failure(let dispatchID, let code, let text):
            guard let worker = touchWorker(peer, now: now, into: &actions) else { return }
            completeCall(dispatchID, on: peer, worker, outcome: .failure(code, text), now: now, into: &actions)
        case .workerHeartbeat:
            touchWorker(peer, now: now, into: &actions)
        case .progress(let dispatchID, let fraction, let text):
            guard touchWorker(peer, now: now, into: &actions) != nil else { return }
            reportProgress(dispatchID, on: peer, fraction: fraction, message: text, now: now, into: &actions)
        case .disconnect:
            guard workers[peer] != nil else { return }
            // Before the draining's own actions (the worker may be forgotten at once), after every
            // REQUEST already sent to it: the worker then knows no more will come.
            actions.append(.acknowledgeDrain(peer))
            workers[peer]?.heldByOperator = false  // its own graceful stop: removed once idle
            startDraining(peer, now: now, into: &actions)
        }
    }

    // MARK: Calls

    private mutating func acceptCall(
        from client: PeerID, _ caller: ClientRecord, requestID: UInt64, function: String, header: CallHeader, payload: PayloadHandle,
        now: Int64, into actions: inout [BrokerAction]
    ) {
        guard isNewRequest(caller, ClientCallKey(client: client, requestID: requestID), payload: payload, into: &actions) else { return }
        statistics.callsReceived += 1
        // (No closures over `self` here: in a mutating method each would copy the whole core.)
        let service = serviceRecord(function)
        let served = !(service?.workers.isEmpty ?? true)
        guard admitWithinClientLimit(caller, client, requestID, payload: payload, into: &actions) else {
            noteRefusal(of: function, served: served)
            return
        }
        if !served, withoutWorkersPastGrace(function, now: now) {
            fail(client, requestID, .unknownFunction, "no worker serves function '\(function)'", payload: payload, into: &actions)
            noteRefusal(of: function, served: served)
            return
        }
        // The worker to dispatch to at once, if any: chosen here for admission control, used by admit.
        var worker: PeerID?
        if let service, service.queue.isEmpty { worker = Self.bestWorker(of: service) }
        // A call that would wait is judged by the drain rate, with the completions not yet counted.
        if worker == nil, uncountedCalls?.function == function { countUncountedCalls() }
        if let service, worker == nil,
            let (message, retryAfter) = refusal(
                function, queued: service.waitingCount, ahead: service.queue.count(atOrAbove: Int(header.priority)),
                waited: oldestWait(function, priority: Int(header.priority), now: now) { [calls] priority in
                    Self.oldestQueuedCall(of: service, atOrAbove: priority, calls: calls)
                },
                limit: min(policy(for: function).maxQueued ?? .max, options.maxQueuedPerFunction),
                meter: callRates[function], now: now, what: "calls")
        {
            refuse(client, requestID, message, retryAfter: retryAfter, payload: payload, countedIn: \.callsFailed, into: &actions)
            noteRefusal(of: function, served: served)
            return
        }
        let deadline = now + timeLimit(header, function: function)
        var header = header
        header.shard = nil  // fields only the broker sets on REQUEST
        header.job = nil
        let record = CallRecord(
            client: client, requestID: requestID, function: function, service: function, header: header, payload: payload,
            deadline: deadline, worker: nil, sequence: 0)
        record.retryable = header.isIdempotent
        record.arrivedAt = arrivalNanoseconds
        record.servedOnArrival = served
        record.caller = caller
        caller.calls[requestID] = admit(record, now: now, worker: .some(worker), into: &actions)
    }

    /// Refuses a request id the client (its record `caller`) already has in flight (a protocol violation).
    mutating func isNewRequest(
        _ caller: ClientRecord, _ key: ClientCallKey, payload: PayloadHandle, into actions: inout [BrokerAction]
    ) -> Bool {
        guard caller.calls[key.requestID] == nil, scattersByClientKey.isEmpty || scattersByClientKey[key] == nil else {
            statistics.protocolViolations += 1
            actions.append(.release(payload))
            actions.append(.notice(.protocolViolation(key.client, "request id \(key.requestID) already in flight")))
            return false
        }
        return true
    }

    /// Whether `client` (its record `record`) may start another call or scatter; when it may not,
    /// answers BUSY with a retry-after time (room opens as its own calls complete) and releases
    /// the payload.
    mutating func admitWithinClientLimit(
        _ record: ClientRecord, _ client: PeerID, _ requestID: UInt64, payload: PayloadHandle,
        countedIn failures: WritableKeyPath<BrokerStatistics, Int> = \.callsFailed, into actions: inout [BrokerAction]
    ) -> Bool {
        let inFlight = record.calls.count + record.scatters
        guard inFlight >= options.maxInFlightPerClient else { return true }
        refuse(
            client, requestID,
            "this client has \(options.maxInFlightPerClient) calls and scatters in flight, the most the broker allows one client: "
                + "keep fewer in flight at once (as callEach's inFlight window does), or spread them over several clients",
            retryAfter: Self.clientLimitRetryAfterMilliseconds, payload: payload, countedIn: failures, into: &actions)
        return false
    }

    /// The retry-after time of a call refused for the client's limit of calls in flight: short,
    /// since room opens as soon as one of the client's own calls completes.
    static let clientLimitRetryAfterMilliseconds: Int64 = 100

    /// Whether `service` has had no worker for the grace period (counted from broker start for a
    /// service never seen).
    func withoutWorkersPastGrace(_ service: String, now: Int64) -> Bool {
        let record = services[service]
        guard record?.workers.isEmpty ?? true else { return false }
        let since = record?.noWorkersSince ?? startedAt
        return now - since >= options.unknownFunctionGraceMilliseconds
    }

    /// The time limit a header asks for, or the default.
    func timeLimit(_ header: CallHeader, function: String) -> Int64 {
        let asked = header.timeoutMilliseconds == 0 ? options.defaultTimeoutMilliseconds : Int64(header.timeoutMilliseconds)
        return min(asked, policy(for: function).timeLimitMilliseconds ?? .max)
    }

    /// Gives `record` a dispatch id and a deadline, then sends it to the best worker of its service
    /// or queues it. Returns the dispatch id. `worker`, when given, is that best worker (or nil for
    /// none), as the caller already found it.
    mutating func admit(_ record: CallRecord, now: Int64, worker chosen: PeerID?? = nil, into actions: inout [BrokerAction]) -> UInt64 {
        let dispatchID = nextDispatchID
        nextDispatchID += 1
        // The caller's new record is taken as it is, not copied.
        record.worker = nil
        record.sequence = nextSequence
        record.header.attempt = 1
        nextSequence += 1
        calls[dispatchID] = record
        insertDeadline(DeadlineEntry(deadline: record.deadline, dispatchID: dispatchID))
        var worker: PeerID?
        if let chosen {
            worker = chosen
        } else if let service = services[record.service], service.queue.isEmpty {
            worker = Self.bestWorker(of: service)
        }
        if let worker {
            dispatch(dispatchID, to: worker, now: now, into: &actions)
        } else {
            service(record.service, noWorkersSince: startedAt).queue.push(dispatchID, priority: Int(record.header.priority), since: now)
        }
        return dispatchID
    }

    /// The record of service `key`, if any, through the one remembered from the last lookup.
    mutating func serviceRecord(_ key: String) -> ServiceRecord? {
        if let last = lastService, last.key == key { return last.record }
        let record = services[key]
        if let record { lastService = (key, record) }
        return record
    }

    /// The record of service `key`, made (with `noWorkersSince`) when there is none yet.
    mutating func service(_ key: String, noWorkersSince: Int64?) -> ServiceRecord {
        if let record = services[key] { return record }
        let record = ServiceRecord(noWorkersSince: noWorkersSince)
        services[key] = record
        return record
    }

    private mutating func cancelCall(from client: PeerID, _ caller: ClientRecord, requestID: UInt64, into actions: inout [BrokerAction]) {
        cancelWait(from: client, requestID: requestID)
        let key = ClientCallKey(client: client, requestID: requestID)
        if let scatterID = scattersByClientKey[key] {
            statistics.callsCancelled += 1
            closeScatter(scatterID, answer: false, into: &actions)
            return
        }
        guard let dispatchID = caller.calls[requestID], let call = calls[dispatchID] else { return }
        statistics.callsCancelled += 1
        if let worker = call.worker { actions.append(.cancel(worker: worker, dispatchID: dispatchID)) }
        forget(dispatchID, into: &actions)
    }

    /// Removes a call's record, releasing any payload it held. A running call's id stays in its
    /// worker's in-flight set until the worker answers, so its credit stays used.
    mutating func forget(_ dispatchID: UInt64, into actions: inout [BrokerAction]) {
        guard let call = calls.removeValue(forKey: dispatchID) else { return }
        forgetRemoved(call, dispatchID, into: &actions)
    }

    /// What ``forget(_:into:)`` does once the record is out of `calls`.
    private mutating func forgetRemoved(_ call: CallRecord, _ dispatchID: UInt64, into actions: inout [BrokerAction]) {
        if call.batch != nil { batchCallsLive -= 1 }
        if call.ownsPayload, let payload = call.payload { actions.append(.release(payload)) }
        if let (scatterID, _) = call.scatter {
            scatters[scatterID]?.open.remove(dispatchID)
        } else {
            call.caller?.calls.removeValue(forKey: call.requestID)
        }
        if let worker = call.worker {
            if quietWorkersSeen { noteCallLeft(worker, now: lastNow) }
        } else {
            queueEntryWentStale(call.service)
        }
    }

    /// Counts the queue entry of a forgotten queued call as stale, so it no longer counts against
    /// `maxQueuedPerFunction`; compacts the queue once stale entries are the majority.
    mutating func queueEntryWentStale(_ function: String) {
        guard services[function] != nil else { return }
        services[function]!.staleEntries += 1
        guard services[function]!.staleEntries * 2 > services[function]!.queue.count else { return }
        let calls = self.calls
        services[function]!.queue.removeAll { calls[$0]?.worker != nil || calls[$0] == nil }
        services[function]!.staleEntries = 0
    }

    mutating func fail(
        _ client: PeerID, _ requestID: UInt64, _ code: ErrorCode, _ text: String, payload: PayloadHandle?,
        countedIn failures: WritableKeyPath<BrokerStatistics, Int> = \.callsFailed, into actions: inout [BrokerAction]
    ) {
        statistics[keyPath: failures] += 1
        if let payload { actions.append(.release(payload)) }
        actions.append(.fail(client: client, requestID: requestID, code: code, message: text))
    }

    /// Refuses a request with BUSY and a retry-after time (admission control): counts the
    /// refusal, and the failure in `failures` when given, and releases the payload, if any.
    mutating func refuse(
        _ client: PeerID, _ requestID: UInt64, _ message: String, retryAfter: Int64, payload: PayloadHandle?,
        countedIn failures: WritableKeyPath<BrokerStatistics, Int>?, into actions: inout [BrokerAction]
    ) {
        if let failures { statistics[keyPath: failures] += 1 }
        statistics.admissionRefusals += 1
        if let payload { actions.append(.release(payload)) }
        actions.append(.refuse(client: client, requestID: requestID, message: message, retryAfterMilliseconds: retryAfter))
    }

    mutating func failCall(_ dispatchID: UInt64, _ code: ErrorCode, _ text: String, into actions: inout [BrokerAction]) {
        finish(dispatchID, .failure(code, text), into: &actions)
    }

    /// Ends a call with `outcome`: answers its client, or records the part of its scatter.
    mutating func finish(_ dispatchID: UInt64, _ outcome: CallOutcome, into actions: inout [BrokerAction]) {
        guard let call = calls.removeValue(forKey: dispatchID) else {
            if case .reply(let payload) = outcome { actions.append(.release(payload)) }
            return
        }
        finishRemoved(call, dispatchID, outcome, into: &actions)
    }

    /// What ``finish(_:_:into:)`` does once the record is out of `calls`.
    private mutating func finishRemoved(
        _ call: CallRecord, _ dispatchID: UInt64, _ outcome: CallOutcome, into actions: inout [BrokerAction]
    ) {
        forgetRemoved(call, dispatchID, into: &actions)
        // The call's function: its service key may add a shard or worker suffix to it (a function
        // name never holds `#` or `@`).
        recordCompletion(call.function, job: call.job != nil)
        if let (scatterID, part) = call.scatter {
            recordPart(scatterID, part: part, outcome, into: &actions)
            return
        }
        if let job = call.job {
            jobAttemptEnded(job, outcome, into: &actions)
            return
        }
        if let batch = call.batch {
            batchEnded(batch, dispatchID, outcome, into: &actions)
            return
        }
        switch outcome {
        case .reply(let payload):
            statistics.callsSucceeded += 1
            actions.append(.reply(client: call.client, requestID: call.requestID, payload: payload))
            noteCompletion(of: call, succeeded: true)
        case .failure(let code, let text):
            fail(call.client, call.requestID, code, text, payload: nil, into: &actions)
            noteCompletion(of: call, succeeded: false)
        case .batch:
            fail(call.client, call.requestID, .internal, "a batch reply to a call that was no batch", payload: nil, into: &actions)
            noteCompletion(of: call, succeeded: false)
        }
    }

    /// A worker answered `dispatchID`: free its credit, answer the client (or retry a failed
    /// retryable call elsewhere), and give the worker more work.
    private mutating func completeCall(
        _ dispatchID: UInt64, on peer: PeerID, _ worker: WorkerRecord, outcome: CallOutcome, now: Int64,
        into actions: inout [BrokerAction]
    ) {
        guard worker.answered(dispatchID) else {
            statistics.protocolViolations += 1
            if case .reply(let payload) = outcome { actions.append(.release(payload)) }
            actions.append(.notice(.protocolViolation(peer, "answer for request \(dispatchID) it was not running")))
            return
        }
        if let call = calls[dispatchID], call.worker == peer {
            if case .failure(let code, _) = outcome, call.scatter != nil, Self.retryableCodes.contains(code),
                requeueForRetry(dispatchID, now: now)
            {
                // Other replicas first: the worker that failed the part gets it back (below, with its
                // credit) only when none of them is free.
                kickIdleWorkers(of: call.service, except: peer, now: now, into: &actions)
            } else {
                calls.removeValue(forKey: dispatchID)
                finishRemoved(call, dispatchID, outcome, into: &actions)
            }
        } else if case .reply(let payload) = outcome {
            actions.append(.release(payload))
        }
        creditReturned(peer, worker, now: now, into: &actions)
    }

    /// Worker errors after which a scatter part is tried on another replica.
    static let retryableCodes: Set<ErrorCode> = [.handlerError, .busy, .shuttingDown, .workerLost, .internal]

    /// Puts a running call back at the head of its queue for another attempt, when it may retry,
    /// has attempts and time left, and its payload is still held. Returns whether it did.
    mutating func requeueForRetry(_ dispatchID: UInt64, now: Int64) -> Bool {
        guard let call = calls[dispatchID], call.retryable, call.payload != nil,
            Int(call.header.attempt) < options.maxAttempts, call.deadline > now
        else { return false }
        call.worker = nil
        call.header.attempt += 1
        statistics.callsRetried += 1
        service(call.service, noWorkersSince: now).queue.push(dispatchID, priority: Int(call.header.priority), since: now, front: true)
        return true
    }

    /// Lets every worker of `service` with free credit, other than `excluded`, take queued work.
    mutating func kickIdleWorkers(of service: String, except excluded: PeerID? = nil, now: Int64, into actions: inout [BrokerAction]) {
        var idle: [PeerID] = []
        for candidate in services[service]?.workers ?? [] where candidate != excluded && workers[candidate]?.hasCredit == true {
            idle.append(candidate)
        }
        for candidate in idle { creditReturned(candidate, now: now, into: &actions) }
    }

    /// Sends queued calls to `peer` while it has credit, oldest first across its functions.
    mutating func creditReturned(_ peer: PeerID, now: Int64, into actions: inout [BrokerAction]) {
        guard let worker = workers[peer] else { return }
        creditReturned(peer, worker, now: now, into: &actions)
    }

    /// ``creditReturned(_:now:into:)`` for a worker whose record the caller holds.
    private mutating func creditReturned(_ peer: PeerID, _ worker: WorkerRecord, now: Int64, into actions: inout [BrokerAction]) {
        if worker.draining {
            if worker.inFlight.isEmpty && !worker.heldByOperator {
                workers[peer] = nil
                actions.append(.notice(.workerLeft(peer, reason: "disconnected", inFlight: 0)))
                actions.append(poolEvent(.workerLeft, worker: peer, message: "disconnected"))
            }
            return
        }
        while worker.hasCredit {
            guard let (service, lane, dispatchID) = bestQueuedCall(for: worker, now: now) else { break }
            service.queue.removeHead(ofLane: lane)
            dispatch(dispatchID, to: peer, now: now, into: &actions)
        }
        if !jobQueues.isEmpty || !batchGroups.isEmpty { dispatchJobs(to: peer, now: now, into: &actions) }
    }

    /// The queued call with the highest effective priority (priority plus aging) among the
    /// services of `worker`, ties to the one waiting longest, with its service and lane; finished
    /// entries met on the way are dropped.
    private mutating func bestQueuedCall(for worker: WorkerRecord, now: Int64) -> (ServiceRecord, Int, UInt64)? {
        var best: (service: ServiceRecord, lane: Int, id: UInt64, effective: Double, sequence: UInt64)?
        // Through the worker's own service records: no lookup by name for a worker whose queues are empty.
        for (function, service) in zip(worker.functions, worker.services) where !service.queue.isEmpty {
            let aging = agingMilliseconds(for: function)
            while let head = service.queue.best(now: now, agingMilliseconds: aging) {
                guard let call = calls[head.entry.id], call.worker == nil else {
                    service.queue.removeHead(ofLane: head.lane)
                    service.staleEntries -= 1
                    continue
                }
                if let current = best,
                    current.effective > head.effective || (current.effective == head.effective && current.sequence < call.sequence)
                {
                    break
                }
                best = (service, head.lane, head.entry.id, head.effective, call.sequence)
                break
            }
        }
        return best.map { ($0.service, $0.lane, $0.id) }
    }

    mutating func dispatch(_ dispatchID: UInt64, to peer: PeerID, now: Int64, into actions: inout [BrokerAction]) {
        // In place: one lookup, and no copy of the record.
        guard let request = calls[dispatchID]?.startRunning(on: peer, maxAttempts: options.maxAttempts, now: now) else { return }
        workers[peer]!.took(dispatchID, sequence: nextSequence)
        nextSequence += 1
        if let frame = request.frame {
            actions.append(
                .requestPart(
                    worker: peer, dispatchID: dispatchID, function: request.function, header: request.header, payload: request.payload,
                    frame: frame))
        } else {
            actions.append(
                .request(
                    worker: peer, dispatchID: dispatchID, function: request.function, header: request.header, payload: request.payload,
                    consume: request.consume))
        }
    }

    /// The least loaded of `service`'s workers with credit; ties go to the one idle longest.
    static func bestWorker(of service: ServiceRecord) -> PeerID? {
        var best: (index: Int, inFlight: Int, capacity: Int, sequence: UInt64)?
        // Through the service's own worker records: no lookup by identity per worker and call.
        for (index, member) in service.members.enumerated() where member.record.hasCredit {
            let worker = member.record
            let (inFlight, capacity, sequence) = worker.load
            guard let current = best else {
                best = (index, inFlight, capacity, sequence)
                continue
            }
            let lhs = inFlight * current.capacity
            let rhs = current.inFlight * capacity
            if lhs < rhs || (lhs == rhs && sequence < current.sequence) {
                best = (index, inFlight, capacity, sequence)
            }
        }
        return best.map { service.workers[$0.index] }
    }

    // MARK: Workers

    private mutating func registerWorker(
        _ peer: PeerID, concurrency: Int, functions: [ServiceDescriptor], heartbeats: WorkerHeartbeats, resume: SessionResume?,
        key: String?, now: Int64, into actions: inout [BrokerAction]
    ) {
        guard workers[peer] == nil else {
            statistics.protocolViolations += 1
            actions.append(.notice(.protocolViolation(peer, "READY from a worker already registered")))
            return
        }
        // A worker is reachable under each function name, under `name#shard` for every shard it
        // holds, and under `name@peer` for broadcasts to every worker of a plain function.
        var names: Set<String> = []
        let functions = functions.filter { names.insert($0.name).inserted }
        if let reason = shardTotalRefusal(functions) {
            statistics.workersRefused += 1
            actions.append(.notice(.workerRefused(peer, reason: reason)))
            actions.append(.refuseWorker(peer, reason: reason))
            return
        }
        var keys: [String] = []
        for descriptor in functions {
            for key in [descriptor.name, Self.pinnedKey(descriptor.name, peer)] where !keys.contains(key) { keys.append(key) }
            if let shards = descriptor.shards {
                adoptShardTotal(descriptor.name, shards.total)
                for shard in shards.indices {
                    let key = Self.shardKey(descriptor.name, shard, of: shards.total)
                    if !keys.contains(key) { keys.append(key) }
                }
            }
        }
        let worker = WorkerRecord(functions: keys, capacity: concurrency, lastSeen: now, heartbeats: heartbeats, curveKey: key)
        workers[peer] = worker
        if heartbeats == .whileIdle { quietWorkersSeen = true }
        for descriptor in functions {
            guard let batch = descriptor.batch else { continue }
            worker.batchFunctions.insert(descriptor.name)
            let first = batchSpecs.updateValue(batch, forKey: descriptor.name) == nil
            if first { gatherIntoBatchGroups(descriptor.name) }
        }
        statistics.workersJoined += 1
        for key in keys {
            let record = service(key, noWorkersSince: nil)
            record.add(peer, worker)
            if Self.isFunctionName(key) { servedFunctions[key, default: 0] += 1 }
            record.noWorkersSince = nil
            worker.services.append(record)
        }
        actions.append(.notice(.workerJoined(peer, functions: functions.map(\.description), concurrency: concurrency)))
        actions.append(
            poolEvent(
                .workerJoined, worker: peer,
                message: "functions \(functions.map(\.description).joined(separator: ",")), concurrency \(concurrency)"
            ))
        actions.append(.heartbeatWorker(peer))
        if let resume { resumeSession(resume, as: peer, worker, now: now, into: &actions) }
        creditReturned(peer, now: now, into: &actions)
    }

    /// Records that a worker spoke and returns its record; an unknown worker is told to register
    /// again (nil). Counted apart from protocol violations: it is what every worker does once
    /// after a broker restart, or after it was dropped as silent and wakes up.
    @discardableResult
    private mutating func touchWorker(_ peer: PeerID, now: Int64, into actions: inout [BrokerAction]) -> WorkerRecord? {
        guard let worker = workers[peer] else {
            statistics.unknownWorkerMessages += 1
            actions.append(.disconnectWorker(peer))
            return nil
        }
        worker.lastSeen = now
        return worker
    }

    mutating func startDraining(_ peer: PeerID, now: Int64, into actions: inout [BrokerAction]) {
        workers[peer]!.draining = true
        workers[peer]!.lastSeen = now
        detachFromServices(peer, now: now, into: &actions)
        creditReturned(peer, now: now, into: &actions)
    }

    private mutating func detachFromServices(_ peer: PeerID, now: Int64, into actions: inout [BrokerAction]) {
        guard let worker = workers[peer] else { return }
        // While new work is refused no worker is coming: calls left without one fail at once.
        defer { if refusingNewWork { failCallsWithoutWorkers(now: now, into: &actions) } }
        for function in worker.functions {
            if services[function]?.remove(peer) == true, Self.isFunctionName(function) {
                servedFunctions[function]! -= 1
                if servedFunctions[function] == 0 { servedFunctions[function] = nil }
            }
            if services[function]?.workers.isEmpty == true {
                if function.contains("@") {
                    // A worker's own key dies with it; calls still queued there fail at the next tick.
                    if services[function]?.queue.isEmpty == true {
                        services[function] = nil
                    } else {
                        services[function]?.noWorkersSince = now - options.unknownFunctionGraceMilliseconds
                    }
                } else {
                    services[function]?.noWorkersSince = now
                    if !function.contains("#") { actions.append(poolEvent(.noWorkers, function: function)) }
                }
            }
        }
    }

    /// Drops a silent or disconnected worker (`reason` says which): its calls are retried elsewhere
    /// when idempotent, failed otherwise.
    mutating func loseWorker(_ peer: PeerID, reason: String, now: Int64, into actions: inout [BrokerAction]) {
        guard let worker = workers[peer] else { return }
        // Its leaving before what it causes: a function's `no_workers` comes after `worker_left`.
        actions.append(.notice(.workerLeft(peer, reason: reason, inFlight: worker.inFlight.count)))
        actions.append(poolEvent(.workerLeft, worker: peer, message: reason))
        detachFromServices(peer, now: now, into: &actions)
        workers[peer] = nil
        statistics.workersLost += 1
        var retried: Set<String> = []
        for dispatchID in worker.inFlight.sorted().reversed() {
            // (A call running elsewhere under an id this worker listed when it resumed a session
            // is not this worker's: see ``resumeSession(_:as:_:now:into:)``.)
            guard let call = calls[dispatchID], call.worker == peer else { continue }
            if requeueForRetry(dispatchID, now: now) {
                retried.insert(call.service)
            } else if refusingNewWork {
                // The broker is stopping: its workers leave (killed by their supervisor at the end of
                // the grace, or gone before their answer), and the stop is what the caller should hear.
                failCall(
                    dispatchID, .shuttingDown, "the broker is stopping; worker \(peer) left while running '\(call.function)'",
                    into: &actions)
            } else {
                failCall(dispatchID, .workerLost, "worker \(peer) was lost while running '\(call.function)'", into: &actions)
            }
        }
        for service in retried.sorted() { kickIdleWorkers(of: service, now: now, into: &actions) }
    }

    // MARK: Clients

    /// Records that a client spoke and returns its record.
    @discardableResult
    private mutating func touchClient(_ peer: PeerID, now: Int64) -> ClientRecord {
        let record = clientRecord(peer, now: now)
        record.lastSeen = now
        return record
    }

    /// The record of client `peer`, made (as seen at `now`) when there is none yet.
    mutating func clientRecord(_ peer: PeerID, now: Int64) -> ClientRecord {
        if let record = clients[peer] { return record }
        let record = ClientRecord(lastSeen: now)
        clients[peer] = record
        return record
    }

    /// Forgets a silent client, every call it had queued or running and its held JOB WAITs. Each
    /// is answered ERROR client-expired, so a client that was only slow learns they are gone.
    private mutating func loseClient(_ peer: PeerID, into actions: inout [BrokerAction]) {
        guard let client = clients.removeValue(forKey: peer) else { return }
        for (key, scatterID) in scattersByClientKey where key.client == peer {
            actions.append(
                .fail(
                    client: peer, requestID: key.requestID, code: .clientExpired, message: "no heartbeat from this client; scatter dropped")
            )
            closeScatter(scatterID, answer: false, into: &actions)
        }
        for dispatchID in client.calls.values.sorted() {
            if let worker = calls[dispatchID]?.worker { actions.append(.cancel(worker: worker, dispatchID: dispatchID)) }
            failCall(
                dispatchID, .clientExpired,
                "no heartbeat from this client for \(2 * options.heartbeat.expiryMilliseconds) ms; call dropped",
                into: &actions)
        }
        dropWaits(of: peer, client.jobWaits, into: &actions)
    }

    // MARK: Time

    private mutating func tick(now: Int64, into actions: inout [BrokerAction]) {
        forgiveOwnStall(now: now, into: &actions)
        expireDeadlines(now: now, into: &actions)
        updateRates(now: now)
        jobTick(now: now, into: &actions)
        flushProgress(now: now, into: &actions)
        guard now >= nextHeartbeatAt else { return }
        nextHeartbeatAt = now + options.heartbeat.intervalMilliseconds
        let expiry = options.heartbeat.expiryMilliseconds
        for (peer, worker) in workers where isExpired(peer, worker, now: now) {
            loseWorker(peer, reason: "silent for \(expiry) ms", now: now, into: &actions)
        }
        for peer in workers.keys { actions.append(.heartbeatWorker(peer)) }
        // Clients get twice the workers' allowance: dropping a live client's calls costs more.
        for (peer, client) in clients where now - client.lastSeen > 2 * expiry {
            loseClient(peer, into: &actions)
        }
        failCallsWithoutWorkers(now: now, into: &actions)
        forgetUnheldShards(now: now)
        shrinkAfterBurst()
    }

    /// Adds a call's deadline; entries of calls that ended are dropped once they outnumber the
    /// live calls (see ``DeadlineQueue/insert(_:live:slack:rebuiltFrom:)``).
    mutating func insertDeadline(_ entry: DeadlineEntry) {
        deadlines.insert(
            entry, live: calls.count, slack: Self.deadlineSlack,
            rebuiltFrom: calls.lazy.map { DeadlineEntry(deadline: $0.value.deadline, dispatchID: $0.key) })
    }

    /// Stale deadline entries tolerated beyond the live calls before the heap is rebuilt.
    static let deadlineSlack = 1024

    private mutating func expireDeadlines(now: Int64, into actions: inout [BrokerAction]) {
        while let first = deadlines.min, first.deadline <= now {
            deadlines.removeMin()
            guard let call = calls[first.dispatchID], call.deadline == first.deadline else { continue }
            if let worker = call.worker { actions.append(.cancel(worker: worker, dispatchID: first.dispatchID)) }
            // Queued with no worker to take it: nothing ran, and the caller learns why.
            if call.worker == nil, services[call.service]?.workers.isEmpty ?? true {
                failCall(first.dispatchID, .unknownFunction, Self.noWorkerMessage(call), into: &actions)
            } else {
                failCall(first.dispatchID, .timeout, ErrorCode.timeoutMessage(function: call.function), into: &actions)
            }
        }
    }

    /// Fails the calls queued for a function that has had no worker for the grace period; while
    /// new work is refused, at once and as shutting down.
    mutating func failCallsWithoutWorkers(now: Int64, into actions: inout [BrokerAction]) {
        let grace = refusingNewWork ? 0 : options.unknownFunctionGraceMilliseconds
        for (function, service) in services where service.workers.isEmpty && !service.queue.isEmpty {
            guard let since = service.noWorkersSince, now - since >= grace else { continue }
            let waiting = service.queue.ids
            service.queue = WaitQueue()
            service.staleEntries = 0
            for dispatchID in waiting {
                guard let call = calls[dispatchID], call.worker == nil else { continue }
                if refusingNewWork {
                    failCall(dispatchID, .shuttingDown, Self.noWorkerWhileStoppingMessage(call), into: &actions)
                } else {
                    failCall(dispatchID, .unknownFunction, Self.noWorkerMessage(call), into: &actions)
                }
            }
            // Nothing waits and no worker serves it: forget the record, so names that clients
            // invent cannot grow the table (a later call finds no record and fails at once).
            if services[function]?.workers.isEmpty == true && services[function]?.queue.isEmpty == true {
                services[function] = nil
            }
        }
    }
}
