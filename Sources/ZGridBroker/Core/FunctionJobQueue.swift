/// The queued jobs of one function: sheddable low-priority jobs apart from the others, so load
/// shedding can park them without walking the whole queue; dispatch takes the best of both.
///
/// The entry of a job cancelled or superseded while queued stays until it is passed over; the
/// owner reports it with ``entryWentStale(priority:)``, so that admission counts live jobs only
/// (``liveCount``, ``liveCount(atOrAbove:)``), and compacts the queue once such entries are the
/// majority (see ``compact(isLive:)``).
struct FunctionJobQueue {
    /// Jobs load shedding never parks.
    var regular = WaitQueue<Int64>()
    /// Sheddable jobs of a priority load shedding may park.
    var sheddable = WaitQueue<Int64>()
    /// Stale entries by priority lane (empty until the first one).
    private var staleByLane: [Int] = []
    /// Stale entries held, in all lanes.
    private(set) var staleCount = 0

    /// Whether no entry is held.
    var isEmpty: Bool { regular.isEmpty && sheddable.isEmpty }
    /// Entries held, live or stale.
    var count: Int { regular.count + sheddable.count }
    /// Entries of jobs still waiting to run.
    var liveCount: Int { max(0, count - staleCount) }
    /// Whether stale entries are the majority (then ``compact(isLive:)`` is due).
    var isMostlyStale: Bool { staleCount * 2 > count }

    /// Entries of live jobs in lanes of `priority` and above (those a new job of that priority
    /// waits behind, aging aside).
    func liveCount(atOrAbove priority: Int) -> Int {
        let held = regular.count(atOrAbove: priority) + sheddable.count(atOrAbove: priority)
        guard staleCount > 0 else { return held }
        return max(0, held - staleByLane[min(9, max(0, priority))...].reduce(0, +))
    }

    /// When the longest-waiting live entry of `priority` or above started waiting.
    func oldestSince(atOrAbove priority: Int, isLive: (Int64) -> Bool) -> Int64? {
        [regular.oldestSince(atOrAbove: priority, isLive: isLive), sheddable.oldestSince(atOrAbove: priority, isLive: isLive)]
            .compactMap { $0 }.min()
    }
    /// Entries of one fairness key.
    func count(ofKey key: String) -> Int { regular.count(ofKey: key) + sheddable.count(ofKey: key) }

    /// Counts the entry of a job of `priority` that left the queue's jobs without being popped
    /// (cancelled or superseded while queued) as stale.
    mutating func entryWentStale(priority: Int) {
        if staleByLane.isEmpty { staleByLane = Array(repeating: 0, count: 10) }
        staleByLane[min(9, max(0, priority))] += 1
        staleCount += 1
    }

    /// Stops counting a stale entry of `lane` that was removed.
    private mutating func staleDropped(lane: Int) {
        guard staleCount > 0, staleByLane[lane] > 0 else { return }
        staleByLane[lane] -= 1
        staleCount -= 1
    }

    /// Drops the stale entries at the front of each key's line, so that every key's first entry
    /// is live (the oldest of its key).
    mutating func dropStaleHeads(isLive: (Int64) -> Bool) {
        guard staleCount > 0 else { return }
        var lanes = staleByLane
        var dropped = 0
        dropped += regular.dropStaleHeads(isLive: isLive) { lanes[$0] = max(0, lanes[$0] - 1) }
        dropped += sheddable.dropStaleHeads(isLive: isLive) { lanes[$0] = max(0, lanes[$0] - 1) }
        staleByLane = lanes
        staleCount = max(0, staleCount - dropped)
    }

    /// Drops every stale entry; the others keep their order.
    mutating func compact(isLive: (Int64) -> Bool) {
        regular.removeAll { !isLive($0) }
        sheddable.removeAll { !isLive($0) }
        staleByLane = []
        staleCount = 0
    }

    /// The live job with the highest effective priority of both queues, removed.
    mutating func popBest(now: Int64, agingMilliseconds: Int64, isLive: (Int64) -> Bool) -> Int64? {
        while true {
            let a = regular.best(now: now, agingMilliseconds: agingMilliseconds)
            let b = sheddable.best(now: now, agingMilliseconds: agingMilliseconds)
            let takeRegular: Bool
            switch (a, b) {
            case (nil, nil): return nil
            case (.some, nil): takeRegular = true
            case (nil, .some): takeRegular = false
            case (.some(let x), .some(let y)):
                takeRegular = x.effective > y.effective || (x.effective == y.effective && x.entry.since <= y.entry.since)
            }
            let (id, lane) = takeRegular ? (a!.entry.id, a!.lane) : (b!.entry.id, b!.lane)
            if takeRegular { regular.removeHead(ofLane: lane) } else { sheddable.removeHead(ofLane: lane) }
            if isLive(id) { return id }
            staleDropped(lane: lane)
        }
    }

    /// The live sheddable job of the lowest priority up to `maxPriority`, removed.
    mutating func popLowestSheddable(upTo maxPriority: Int, isLive: (Int64) -> Bool) -> Int64? {
        while let (id, lane) = sheddable.popLowest(upTo: maxPriority) {
            if isLive(id) { return id }
            staleDropped(lane: lane)
        }
        return nil
    }
}
