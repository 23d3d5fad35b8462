import DequeModule
import ZGridJobStore
import ZGridProtocol

/// Queued jobs of a batch-capable function that share a batch key.
struct BatchGroup {
    /// The jobs, oldest first (entries of jobs no longer queued are skipped lazily).
    var ids: Deque<Int64> = []
    /// When the oldest entry started waiting (monotonic ms).
    var since: Int64
}

/// Aggregation: jobs with a batch key, of a function whose workers declared themselves
/// batch-capable (`name+batch=N/T` in READY), wait in groups by key and go to one worker as one
/// batch REQUEST when N are queued or the oldest has waited T milliseconds; each job gets its own
/// result back from the batch's REPLY.
extension BrokerCore {
    /// How `function` is batched: the workers' announcement, narrowed by its `[[function]]` policy.
    func batchSpec(for function: String) -> BatchSpec? {
        guard let announced = batchSpecs[function] else { return nil }
        let policy = policy(for: function)
        return BatchSpec(
            maxItems: min(announced.maxItems, max(1, policy.batchMaxItems ?? announced.maxItems)),
            maxWaitMilliseconds: min(60_000, max(0, policy.batchMaxWaitMilliseconds ?? announced.maxWaitMilliseconds))) ?? announced
    }

    /// Whether a queued job waits in a batch group rather than the function's wait queue.
    func waitsInBatch(_ record: JobRecord) -> Bool {
        record.batchKey != nil && batchSpecs[record.function] != nil
    }

    /// Adds a queued job to its batch group.
    mutating func pushBatched(_ record: JobRecord) {
        guard let key = record.batchKey else { return }
        batchGroups[record.function, default: [:]][key, default: BatchGroup(since: lastNow)].ids.append(record.id)
    }

    /// Moves the queued jobs of `function` that have a batch key into batch groups, in the order
    /// they were submitted: they were queued one by one while no batch-capable worker had declared
    /// the function (before the first one registered, or read back from the store at start).
    mutating func gatherIntoBatchGroups(_ function: String) {
        guard var queue = jobQueues[function] else { return }
        var gathered: [Int64] = []
        let jobs = self.jobs
        let batched: (Int64) -> Bool = { id in
            guard let entry = jobs[id], entry.isWaitingToRun, entry.record.batchKey != nil else { return false }
            gathered.append(id)
            return true
        }
        queue.regular.removeAll(where: batched)
        queue.sheddable.removeAll(where: batched)
        jobQueues[function] = queue.isEmpty ? nil : queue
        for id in gathered.sorted() { if let record = jobs[id]?.record { pushBatched(record) } }
    }

    /// Whether `dispatchID` is a batch REQUEST (its REPLY holds one result frame per job).
    public func isBatchDispatch(_ dispatchID: UInt64) -> Bool { batchCallsLive > 0 && calls[dispatchID]?.batch != nil }

    /// Queued jobs of `function` waiting in batch groups (stale entries included).
    func batchedCount(of function: String) -> Int {
        batchGroups[function]?.values.reduce(0) { $0 + $1.ids.count } ?? 0
    }

    /// When the oldest batch group is due (monotonic ms), if any waits.
    var nextBatchDue: Int64? {
        var due: Int64?
        for (function, groups) in batchGroups {
            let wait = Int64(batchSpec(for: function)?.maxWaitMilliseconds ?? 0)
            for group in groups.values { due = min(due ?? (group.since + wait), group.since + wait) }
        }
        return due
    }

    /// Sends the due batch groups of `function` (full, or waited long enough) to workers with free
    /// job slots: as one batch to a batch-capable worker, else job by job.
    mutating func dispatchBatches(of function: String, to only: PeerID? = nil, now: Int64, into actions: inout [BrokerAction]) {
        guard let spec = batchSpec(for: function), var groups = batchGroups[function] else { return }
        let due = groups.filter { _, group in group.ids.count >= spec.maxItems || now - group.since >= Int64(spec.maxWaitMilliseconds) }
            .sorted { ($0.value.since, $0.key) < ($1.value.since, $1.key) }
        for (key, _) in due {
            while var group = groups[key] {
                guard !storeBacklogged, let peer = only.map({ canTakeJob($0, function) ? $0 : nil }) ?? bestJobWorker(for: function)
                else {
                    batchGroups[function] = groups
                    return
                }
                var ids: [Int64] = []
                let limit = workers[peer]?.batchFunctions.contains(function) == true ? spec.maxItems : 1
                while ids.count < limit, let id = group.ids.popFirst() {
                    if jobs[id]?.isWaitingToRun == true { ids.append(id) }
                }
                group.since = now
                groups[key] = group.ids.isEmpty ? nil : group
                if ids.isEmpty { continue }
                if ids.count == 1 && limit == 1 {
                    dispatchJob(ids[0], to: peer, now: now, into: &actions)
                } else {
                    dispatchBatch(ids, of: function, to: peer, now: now, into: &actions)
                }
                if ids.count < limit || (groups[key].map { $0.ids.count < spec.maxItems } ?? true) { break }
            }
        }
        batchGroups[function] = groups.isEmpty ? nil : groups
    }

    /// Whether `peer` serves `function` and has a free job slot.
    func canTakeJob(_ peer: PeerID, _ function: String) -> Bool {
        guard let worker = workers[peer], worker.functions.contains(function) else { return false }
        return hasFreeJobSlot(worker)
    }

    /// Runs `ids` as one batch REQUEST on `peer`: one slot, one attempt of each job.
    private mutating func dispatchBatch(
        _ ids: [Int64], of function: String, to peer: PeerID, now: Int64, into actions: inout [BrokerAction]
    ) {
        let dispatchID = nextDispatchID
        nextDispatchID += 1
        var items: [BatchItems.Item] = []
        var payloads: [[UInt8]] = []
        var writes: [StoreWrite] = []
        var timeLimit = policy(for: function).timeLimitMilliseconds ?? .max
        var priority = 0
        for id in ids {
            guard var entry = jobs[id] else { continue }
            entry.startAttempt(on: peer, dispatchID: dispatchID, wallNow: wallNow)
            jobs[id] = entry
            timeLimit = min(timeLimit, entry.record.timeLimitMilliseconds)
            priority = max(priority, entry.record.priority)
            items.append(BatchItems.Item(job: UInt64(id), attempt: UInt8(clamping: entry.record.attempts)))
            payloads.append(entry.record.payload)
            writes.append(.upsert(entry.record))
            actions.append(
                jobEvent(
                    .started, entry.record, worker: peer.description, attempt: entry.record.attempts, message: "in a batch of \(ids.count)")
            )
        }
        var header = CallHeader(priority: UInt8(priority), timeoutMilliseconds: UInt32(clamping: timeLimit))
        header.isBatch = true
        let call = CallRecord(
            client: Self.jobClient, requestID: 0, function: function, service: function, header: header, payload: nil,
            deadline: now + timeLimit, worker: peer, sequence: 0)
        call.batch = ids
        batchCallsLive += 1
        runAttempt(call, as: dispatchID, on: peer)
        statistics.batchesDispatched += 1
        actions.append(
            .requestBatch(worker: peer, dispatchID: dispatchID, function: function, header: header, items: items, payloads: payloads))
        actions.append(storeWrite(writes, token: takeToken()))
    }

    /// Batch `dispatchID` ended: each job gets its own result, or the batch's failure; a job that
    /// left the batch while it ran (cancelled, and maybe queued again since) gets nothing from it.
    mutating func batchEnded(_ ids: [Int64], _ dispatchID: UInt64, _ outcome: CallOutcome, into actions: inout [BrokerAction]) {
        let ids = ids.map { jobs[$0]?.dispatchID == dispatchID ? $0 : nil }
        switch outcome {
        case .batch(let results) where results.count == ids.count:
            for case (let id?, let result) in zip(ids, results) {
                switch result {
                case .success(let bytes): jobSucceeded(id, result: bytes, into: &actions)
                case .failure(let code, let message): jobAttemptEnded(id, .failure(code, message), into: &actions)
                }
            }
        case .batch(let results):
            for case let id? in ids {
                jobAttemptEnded(
                    id, .failure(.malformed, "the batch reply held \(results.count) results for \(ids.count) jobs"), into: &actions)
            }
        case .reply(let payload):
            actions.append(.release(payload))
            for case let id? in ids {
                jobAttemptEnded(id, .failure(.malformed, "the batch reply was not made of result frames"), into: &actions)
            }
        case .failure(let code, let message):
            for case let id? in ids { jobAttemptEnded(id, .failure(code, message), into: &actions) }
        }
    }
}
