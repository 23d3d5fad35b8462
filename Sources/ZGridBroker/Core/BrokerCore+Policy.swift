import DequeModule
import ZGridJobStore
import ZGridProtocol

/// Queue control: per-function policies, admission with retry-after times computed from drain
/// rates, and load shedding of sheddable low-priority jobs with a sweep that queues them again.
extension BrokerCore {
    /// The policy of `function` (a service key such as `f#3` uses its function's).
    func policy(for function: String) -> FunctionPolicy {
        guard !options.functions.isEmpty else { return FunctionPolicy() }
        return options.functions[Self.functionName(of: function)] ?? FunctionPolicy()
    }

    /// The aging step of `function`.
    func agingMilliseconds(for function: String) -> Int64 {
        policy(for: function).agingMilliseconds ?? options.agingMilliseconds
    }

    /// Whether a service key names a function a client can call (`f`), not one shard of it
    /// (`f#shard`) or one worker's own key (`f@peer`).
    static func isFunctionName(_ service: String) -> Bool {
        !service.utf8.contains { $0 == UInt8(ascii: "#") || $0 == UInt8(ascii: "@") }
    }

    /// The function of a service key: `f`, `f#shard` and `f@peer` all belong to `f`.
    static func functionName(of service: String) -> String {
        guard let end = service.utf8.firstIndex(where: { $0 == UInt8(ascii: "#") || $0 == UInt8(ascii: "@") }) else { return service }
        return String(service[..<end])
    }

    // MARK: Admission

    /// Why a new item for `function` must wait, and for how long, when `queued` items already wait
    /// (`ahead` of them at the new item's priority or above) and they drain at `meter`'s rate; nil
    /// when it may queue. The length limit counts every waiting item (`held` says which, in the
    /// message); the wait limit, applied only when `waits` (the item would queue now), only those
    /// ahead, so high-priority work is refused last. Before anything has drained (no rate yet), the
    /// wait limit applies to how long the oldest item ahead has already waited (`waited`); once
    /// something has, the rate is estimated at `now` even before its first window closes (see
    /// ``RateMeter/estimate(now:)``).
    func refusal(
        _ function: String, queued: Int, ahead: Int, waited: Int64?, limit: Int?, meter: RateMeter?, now: Int64, what: String,
        held: String = "queued", waits: Bool = true
    ) -> (message: String, retryAfter: Int64)? {
        let policy = policy(for: function)
        let perSecond = meter?.estimate(now: now) ?? 0
        if let limit, queued >= limit {
            let excess = Double(queued - limit + 1)
            return (
                "\(queued) \(what) \(held) for '\(function)', the most allowed is \(limit)", Self.retryAfter(excess / perSecond * 1000)
            )
        }
        guard waits else { return nil }
        if let maxWait = policy.maxQueueWaitMilliseconds, perSecond > 0 {
            let expected = Double(ahead + 1) / perSecond * 1000
            if expected > Double(maxWait) {
                return (
                    "'\(function)' would wait about \(Int(expected)) ms in the queue, the most allowed is \(maxWait) ms",
                    Self.retryAfter(expected - Double(maxWait))
                )
            }
        } else if let maxWait = policy.maxQueueWaitMilliseconds, let waited, waited > maxWait {
            return (
                "\(what) for '\(function)' have waited \(waited) ms in the queue and none has finished yet; the most allowed is \(maxWait) ms",
                Self.retryAfter(.infinity)
            )
        }
        return nil
    }

    /// A retry-after time in milliseconds: 50 ms to 60 s, 1 s when nothing drains.
    static func retryAfter(_ milliseconds: Double) -> Int64 {
        guard milliseconds.isFinite else { return 1000 }
        return Int64(min(60_000, max(50, milliseconds.rounded(.up))))
    }

    /// How long the oldest of `queue`'s entries of `priority` or above has waited at `now`, when
    /// `function` has a wait limit (nil otherwise: no need to look).
    func oldestWait(_ function: String, priority: Int, now: Int64, _ oldestSince: (Int) -> Int64?) -> Int64? {
        guard policy(for: function).maxQueueWaitMilliseconds != nil, let since = oldestSince(priority) else { return nil }
        return now - since
    }

    /// When the longest-waiting call queued in `service` at `priority` or above started waiting;
    /// nil when none waits there.
    ///
    /// The entries of calls cancelled or expired while queued (left in the queue until they are
    /// passed over) go first, as they would when the dispatcher passes over them: skipped at every
    /// look, a backlog of them (an overload whose calls time out in the queue) would make each look,
    /// once per overload check and once per CALL admitted under a wait limit, as long as the backlog.
    static func oldestQueuedCall(of service: ServiceRecord, atOrAbove priority: Int, calls: IDMap<CallRecord>) -> Int64? {
        func isLive(_ id: UInt64) -> Bool { calls[id].map { $0.worker == nil } ?? false }
        service.staleEntries -= service.queue.dropStaleHeads(isLive: isLive)
        return service.queue.oldestSince(atOrAbove: priority, isLive: isLive)
    }

    /// Queued calls of `function`, counting its shards' and workers' own queues.
    func queuedCalls(of function: String) -> Int {
        services[function]?.waitingCount ?? 0
    }

    /// Queued jobs of `function`, in memory (not the entries of jobs cancelled or superseded while
    /// queued), on disk and in batch groups.
    func queuedJobs(of function: String) -> Int {
        (jobQueues[function]?.liveCount ?? 0) + (spilledByFunction[function] ?? 0) + batchedCount(of: function)
            + (uncommittedByFunction[function] ?? 0)
    }

    /// Jobs of `function` that `max_queued_jobs` counts: every unfinished job not running, so that
    /// the limit bounds what the broker holds. Queued ones (in memory, committed or not, and on
    /// disk), scheduled ones (delayed, or waiting for a retry) and deferred ones (parked by load
    /// shedding); not the stale queue entries of jobs cancelled or superseded while queued.
    func waitingJobs(of function: String) -> Int {
        jobs.waiting(of: function) + (spilledByFunction[function] ?? 0)
    }

    /// Why a new (or retried) job of `function` with `priority` must wait, and for how long, under
    /// the function's `max_queued_jobs` and, when it `runsNow` (not delayed), `max_queue_wait_ms`;
    /// nil when it may queue.
    mutating func jobRefusal(_ function: String, priority: Int, runsNow: Bool, now: Int64) -> (message: String, retryAfter: Int64)? {
        // The oldest live job is the first live entry of its key: dropping the stale entries before
        // them keeps this look as long as the number of keys, not of jobs cancelled meanwhile.
        if runsNow, policy(for: function).maxQueueWaitMilliseconds != nil, jobQueues[function]?.staleCount ?? 0 > 0 {
            let jobs = self.jobs
            jobQueues[function]!.dropStaleHeads { jobs[$0]?.isWaitingToRun ?? false }
        }
        return refusal(
            function, queued: waitingJobs(of: function), ahead: jobsAhead(of: function, priority: priority),
            waited: oldestWait(function, priority: priority, now: now) { [jobs, jobQueues] priority in
                jobQueues[function]?.oldestSince(atOrAbove: priority) { jobs[$0]?.isWaitingToRun ?? false }
            },
            limit: policy(for: function).maxQueuedJobs, meter: jobRates[function], now: now,
            what: "jobs", held: "waiting (queued, delayed or deferred)", waits: runsNow)
    }

    /// Queued jobs of `function` a new job of `priority` waits behind (on disk counted as ahead).
    func jobsAhead(of function: String, priority: Int) -> Int {
        let inMemory = jobQueues[function]?.liveCount(atOrAbove: priority) ?? 0
        return inMemory + (spilledByFunction[function] ?? 0) + batchedCount(of: function) + (uncommittedByFunction[function] ?? 0)
    }

    /// Counts a call or job attempt of `function` that ended, for drain rates.
    mutating func recordCompletion(_ function: String, job: Bool) {
        if job {
            Self.count(function, since: lastNow, count: 1, in: &jobRates)
        } else if let uncounted = uncountedCalls, uncounted.function == function {
            uncountedCalls!.count += 1
        } else {
            countUncountedCalls()
            uncountedCalls = (function, 1, lastNow)
        }
    }

    /// Folds ``uncountedCalls`` into the call rates.
    mutating func countUncountedCalls() {
        guard let uncounted = uncountedCalls else { return }
        uncountedCalls = nil
        Self.count(uncounted.function, since: uncounted.since, count: uncounted.count, in: &callRates)
    }

    /// Adds `count` completions of `function` to its meter in `rates`, made with a first window
    /// from `since` when there is none.
    private static func count(_ function: String, since: Int64, count: Int, in rates: inout [String: RateMeter]) {
        // No `default:` subscript here: its autoclosure costs an allocation per call. Through the
        // index, the name is hashed once.
        if let index = rates.index(forKey: function) {
            rates.values[index].count += count
        } else {
            rates[function] = RateMeter(since: since, count: count)
        }
    }

    /// Brings drain rates up to date (about once a second).
    mutating func updateRates(now: Int64) {
        guard now >= nextRateUpdateAt else { return }
        nextRateUpdateAt = now + 500
        countUncountedCalls()
        // A function with nothing queued is not measured: no completions then say nothing about
        // how fast its queue drains (it was idle, or busy with long calls), and an idle stretch
        // would otherwise decay the rate towards zero and refuse the next burst as hours of wait.
        let callsWaiting = Set(callRates.keys.filter { queuedCalls(of: $0) > 0 })
        let jobsWaiting = Set(jobRates.keys.filter { queuedJobs(of: $0) > 0 })
        callRates.updateValues { function, meter in meter.update(now: now, measuring: callsWaiting.contains(function)) }
        jobRates.updateValues { function, meter in meter.update(now: now, measuring: jobsWaiting.contains(function)) }
    }

    // MARK: Load shedding

    /// Whether interactive calls are backing up: at least `queuedCalls` calls queued in all, or
    /// one still waiting after `callWaitMilliseconds` or more. Checked at most once per millisecond.
    mutating func isOverloaded(now: Int64) -> Bool {
        guard options.shedding.enabled else { return false }
        if overloadCheck.at == now { return overloadCheck.value }
        var queued = 0
        var overloaded = false
        for service in services.values where service.waitingCount > 0 {
            queued += service.waitingCount
            // The oldest call still waiting, in any lane: not the queue's head, which may be a
            // younger call of a higher priority.
            if let since = Self.oldestQueuedCall(of: service, atOrAbove: 0, calls: calls),
                now - since >= options.shedding.callWaitMilliseconds
            {
                overloaded = true
                break
            }
        }
        overloaded = overloaded || queued >= options.shedding.queuedCalls
        overloadCheck = (now, overloaded)
        if overloaded { calmSince = nil } else if calmSince == nil { calmSince = now }
        return overloaded
    }

    /// Whether load shedding parks `record` instead of dispatching it now.
    mutating func shouldDefer(_ record: JobRecord, now: Int64) -> Bool {
        record.sheddable && record.priority <= options.shedding.maxPriority && isOverloaded(now: now)
    }

    /// Parks a queued job as deferred (persisted, with an event) until the load falls.
    mutating func deferJob(_ id: Int64, into actions: inout [BrokerAction]) {
        guard var entry = jobs[id] else { return }
        entry.record.state = .deferred
        entry.record.updatedAt = wallNow
        jobs[id] = entry
        deferredJobs.append(id)
        statistics.jobsDeferred += 1
        actions.append(storeWrite([.upsert(entry.record)], token: takeToken()))
        actions.append(jobEvent(.deferred, entry.record, message: "the broker is overloaded: parked until the load falls"))
    }

    /// Under overload, parks up to `sweepBatch` queued sheddable low-priority jobs as deferred.
    mutating func shedQueued(now: Int64, into actions: inout [BrokerAction]) {
        guard options.shedding.enabled, jobQueues.values.contains(where: { !$0.sheddable.isEmpty }), isOverloaded(now: now) else { return }
        var parked = 0
        for function in jobQueues.keys.sorted() where parked < options.shedding.sweepBatch {
            while parked < options.shedding.sweepBatch, let id = popSheddable(of: function) {
                deferJob(id, into: &actions)
                parked += 1
            }
            if jobQueues[function]?.isEmpty == true { jobQueues[function] = nil }
        }
    }

    /// The queued sheddable job of `function` of the lowest priority load shedding parks, removed
    /// from its queue; stale entries met on the way are dropped.
    private mutating func popSheddable(of function: String) -> Int64? {
        let jobs = self.jobs
        return jobQueues[function]?.popLowestSheddable(upTo: options.shedding.maxPriority) { jobs[$0]?.isWaitingToRun ?? false }
    }

    /// The sweep: once the broker has been calm for `calmMilliseconds`, queues deferred jobs again,
    /// up to `sweepBatch` per tick. With load shedding off, at once: the deferred jobs then come
    /// from the store, parked before a restart that turned shedding off, and nothing else would
    /// ever queue them again.
    mutating func sweepDeferred(now: Int64, into actions: inout [BrokerAction]) {
        guard !deferredJobs.isEmpty, !isOverloaded(now: now) else { return }
        if options.shedding.enabled {
            guard let calmSince, now - calmSince >= options.shedding.calmMilliseconds else { return }
        }
        var moved: [StoreWrite] = []
        while moved.count < options.shedding.sweepBatch, let id = deferredJobs.popFirst() {
            guard var entry = jobs[id], entry.record.state == .deferred else { continue }
            entry.record.state = .queued
            entry.record.updatedAt = wallNow
            jobs[id] = entry
            pushQueued(entry.record)
            moved.append(.upsert(entry.record))
            statistics.jobsSwept += 1
            actions.append(jobEvent(.queued, entry.record, message: "queued again: the load fell"))
        }
        if !moved.isEmpty { actions.append(storeWrite(moved, token: takeToken())) }
    }

    /// When the sweep next wants a tick, if deferred jobs wait.
    func nextSweep(now: Int64) -> Int64? {
        guard !deferredJobs.isEmpty else { return nil }
        guard options.shedding.enabled else { return now + 10 }
        return max(now + 10, (calmSince ?? now) + options.shedding.calmMilliseconds)
    }
}

/// Completions per second of one function, smoothed.
struct RateMeter {
    /// Completions since the last update.
    var count = 0
    /// The smoothed rate.
    private(set) var perSecond: Double = 0
    /// When the current window started (monotonic ms).
    private var since: Int64

    /// A meter whose first window starts at `since`, with `count` completions in it.
    init(since: Int64, count: Int = 0) {
        self.since = since
        self.count = count
    }

    /// The drain rate to judge a queue's wait by at `now`: the smoothed rate once a window has
    /// been folded in; before that, the completions of the first window over its length so far,
    /// taken as at least 500 ms so that a few quick completions do not pass for a fast drain (a
    /// burst that came right after a function's first completions would otherwise be admitted
    /// whole); 0 when nothing has completed.
    func estimate(now: Int64) -> Double {
        guard perSecond == 0, count > 0 else { return perSecond }
        return Double(count) * 1000 / Double(max(500, now - since))
    }

    /// Folds the completions since the last update into the rate. A window in which nothing
    /// completed while nothing was waiting (`measuring` false) is dropped, the rate kept.
    mutating func update(now: Int64, measuring: Bool = true) {
        let elapsed = now - since
        guard elapsed >= 500 else { return }
        if count == 0 && !measuring {
            since = now
            return
        }
        let current = Double(count) * 1000 / Double(elapsed)
        perSecond = perSecond == 0 ? current : 0.5 * perSecond + 0.5 * current
        count = 0
        self.since = now
    }
}
