/// The queued jobs of one function: sheddable low-priority jobs apart from the others, so load
/// shedding can park them without walking the whole queue; dispatch takes the best of both.
struct FunctionJobQueue {
    /// Jobs load shedding never parks.
    var regular = WaitQueue<Int64>()
    /// Sheddable jobs of a priority load shedding may park.
    var sheddable = WaitQueue<Int64>()

    /// Whether no entry is held.
    var isEmpty: Bool { regular.isEmpty && sheddable.isEmpty }
    /// Entries held, live or stale.
    var count: Int { regular.count + sheddable.count }
    /// When the longest-waiting live entry of `priority` or above started waiting.
    func oldestSince(atOrAbove priority: Int, isLive: (Int64) -> Bool) -> Int64? {
        [regular.oldestSince(atOrAbove: priority, isLive: isLive), sheddable.oldestSince(atOrAbove: priority, isLive: isLive)]
            .compactMap { $0 }.min()
    }
    /// Entries of one fairness key.
    func count(ofKey key: String) -> Int { regular.count(ofKey: key) + sheddable.count(ofKey: key) }

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
            let id: Int64
            if takeRegular {
                regular.removeHead(ofLane: a!.lane)
                id = a!.entry.id
            } else {
                sheddable.removeHead(ofLane: b!.lane)
                id = b!.entry.id
            }
            if isLive(id) { return id }
        }
    }
}
