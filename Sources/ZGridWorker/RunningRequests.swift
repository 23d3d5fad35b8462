/// The handlers a worker runs, by dispatch id, with their time limits and cancellation state.
///
/// A request holds its slot (counts against the concurrency) until its handler's task ends, even
/// after it was cancelled: a handler that ignores cancellation keeps eating the slot, and once it
/// has done so for the grace period it is **stuck**.
///
/// A handler **given up** (its broker forgot this worker, or a stop gave it up) is cancelled and
/// its result will be dropped, but its task may still run: it is kept apart, no longer under its
/// dispatch id, until it ends. Past the grace period it is stuck like any other, and from then on
/// holds a slot: otherwise a handler that never ends would be forgotten at each reconnection, and
/// the worker would run more than its concurrency.
struct RunningRequests {
    /// Why a handler's task was cancelled.
    enum CancelReason: Equatable {
        /// The request's time limit passed.
        case timeLimit
        /// The broker sent CANCEL.
        case broker
        /// The handler was given up: its result can no longer be delivered.
        case givenUp
    }

    /// One running handler.
    struct Entry {
        /// The handler's task.
        let task: Task<Void, Never>
        /// Which start of a handler for the dispatch id this is: a broker that restarted numbers
        /// its dispatches from 1 again, so a handler given up in an earlier session may end while
        /// one for the same id runs, and its result must not answer that one.
        let start: UInt64
        /// The function it serves.
        let function: String
        /// The time limit from the request header, in milliseconds; 0 for none.
        let limitMilliseconds: UInt32
        /// When the time limit passes, on the monotonic clock; nil without a limit.
        let deadline: Int64?
        /// Why the task was cancelled, nil while it was not.
        var cancelReason: CancelReason?
        /// When it was cancelled.
        var cancelledAt: Int64 = 0
        /// Whether it outlived its cancellation by the grace period.
        var isStuck = false
    }

    /// What ``tick(now:grace:)`` found.
    enum Event {
        /// A request passed its time limit; its task was cancelled.
        case timedOut(id: UInt64, Entry)
        /// A cancelled handler is still running after the grace period.
        case stuck(id: UInt64, Entry)
    }

    private var entries: [UInt64: Entry] = [:]
    /// Handlers given up whose tasks still run, by their start numbers, with their dispatch ids.
    private var givenUp: [UInt64: (id: UInt64, entry: Entry)] = [:]
    /// Stuck handlers among the running ones, given up ones included.
    private(set) var stuckCount = 0
    /// Stuck handlers among the given up ones: each still holds a slot.
    private var stuckGivenUp = 0
    /// When ``tick(now:grace:)`` next has something to do (may be early, never late).
    private(set) var nextCheck: Int64 = .max

    /// How many handlers run (not counting those given up).
    var count: Int { entries.count }
    /// How many slots are held: by the handlers that run, and by the stuck ones given up.
    var slotsHeld: Int { entries.count + stuckGivenUp }
    /// Whether none runs (not counting those given up).
    var isEmpty: Bool { entries.isEmpty }

    /// The dispatch ids that run.
    var ids: [UInt64] { Array(entries.keys) }

    /// Whether `id` runs.
    func contains(_ id: UInt64) -> Bool { entries[id] != nil }

    /// Whether `id` runs, started as `start`.
    func contains(_ id: UInt64, start: UInt64) -> Bool { entries[id]?.start == start }

    /// Adds a started handler, its start numbered `start`; `limitMilliseconds` 0 means no time limit.
    mutating func insert(
        _ id: UInt64, start: UInt64, task: Task<Void, Never>, function: String, limitMilliseconds: UInt32, now: Int64
    ) {
        let deadline = limitMilliseconds == 0 ? nil : now + Int64(limitMilliseconds)
        entries[id] = Entry(task: task, start: start, function: function, limitMilliseconds: limitMilliseconds, deadline: deadline)
        if let deadline { nextCheck = min(nextCheck, deadline) }
    }

    /// Removes a handler whose task ended: the one for `id` started as `start`; nil when that one
    /// no longer runs (it was given up, and `id` may now run another).
    mutating func remove(_ id: UInt64, start: UInt64) -> Entry? {
        guard entries[id]?.start == start, let entry = entries.removeValue(forKey: id) else { return nil }
        if entry.isStuck { stuckCount -= 1 }
        return entry
    }

    /// Removes a handler that was given up, started as `start`, whose task ended; nil when there
    /// is none.
    mutating func removeGivenUp(start: UInt64) -> (id: UInt64, entry: Entry)? {
        guard let ended = givenUp.removeValue(forKey: start) else { return nil }
        if ended.entry.isStuck {
            stuckCount -= 1
            stuckGivenUp -= 1
        }
        return ended
    }

    /// Cancels `id`'s task, unless it was cancelled already; the grace period starts now.
    mutating func cancel(_ id: UInt64, reason: CancelReason, now: Int64, grace: Int64) {
        guard var entry = entries[id], entry.cancelReason == nil else { return }
        entry.cancelReason = reason
        entry.cancelledAt = now
        entry.task.cancel()
        entries[id] = entry
        nextCheck = min(nextCheck, Self.end(of: grace, from: now))
    }

    /// Cancels the handlers past their time limit and marks those past their grace period as stuck.
    mutating func tick(now: Int64, grace: Int64) -> [Event] {
        guard now >= nextCheck else { return [] }
        var events: [Event] = []
        var next = Int64.max
        for index in entries.indices {
            let id = entries.keys[index]
            var entry = entries.values[index]
            if entry.cancelReason == nil, let deadline = entry.deadline {
                if deadline <= now {
                    entry.cancelReason = .timeLimit
                    entry.cancelledAt = now
                    entry.task.cancel()
                    events.append(.timedOut(id: id, entry))
                } else {
                    next = min(next, deadline)
                }
            }
            if entry.cancelReason != nil && !entry.isStuck {
                if now - entry.cancelledAt >= grace {
                    entry.isStuck = true
                    stuckCount += 1
                    events.append(.stuck(id: id, entry))
                } else {
                    next = min(next, Self.end(of: grace, from: entry.cancelledAt))
                }
            }
            entries.values[index] = entry
        }
        for (start, held) in givenUp where !held.entry.isStuck {
            if now - held.entry.cancelledAt >= grace {
                givenUp[start]?.entry.isStuck = true
                stuckCount += 1
                stuckGivenUp += 1
                events.append(.stuck(id: held.id, held.entry))
            } else {
                next = min(next, Self.end(of: grace, from: held.entry.cancelledAt))
            }
        }
        nextCheck = next
        return events
    }

    /// When a grace period that starts at `start` ends: never (`Int64.max`) when that is past what
    /// the clock can count (a grace of `Int64.max` milliseconds turns the stuck check off).
    private static func end(of grace: Int64, from start: Int64) -> Int64 {
        let (end, overflow) = start.addingReportingOverflow(grace)
        return overflow ? .max : end
    }

    /// Cancels every handler and gives them all up (their answers can no longer be delivered):
    /// each is kept apart until its task ends, its grace period counted from now unless it was
    /// cancelled before. Returns the dispatch ids they ran, with their functions.
    @discardableResult
    mutating func abandonAll(now: Int64, grace: Int64) -> [(id: UInt64, function: String)] {
        let abandoned = entries.map { (id: $0.key, function: $0.value.function) }
        for (id, var entry) in entries {
            entry.task.cancel()
            if entry.cancelReason == nil {
                entry.cancelReason = .givenUp
                entry.cancelledAt = now
            }
            if entry.isStuck { stuckGivenUp += 1 }
            if !entry.isStuck { nextCheck = min(nextCheck, Self.end(of: grace, from: entry.cancelledAt)) }
            givenUp[entry.start] = (id, entry)
        }
        entries.removeAll()
        return abandoned
    }
}
