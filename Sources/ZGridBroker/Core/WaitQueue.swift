import DequeModule

/// Items waiting for a worker: ten priority lanes (9 first) with aging, and within a lane
/// round-robin between fairness keys, oldest first within a key.
///
/// **Aging.** An item's effective priority is its priority plus the time it has waited divided by
/// the aging step, so an item of priority `p` is never passed by work that arrived more than
/// `(9 − p) × aging` after it: low-priority work is delayed, never starved.
///
/// **Fairness.** Within a lane, keys take turns: a key with a million items waiting delays another
/// key's single item by at most one turn of each other key.
///
/// Entries are removed lazily: the owner decides whether the item at the head still waits (see
/// ``popBest(now:agingMilliseconds:isLive:)``) and counts entries that went stale.
struct WaitQueue<ID: Hashable> {
    /// One waiting item.
    struct Entry {
        let id: ID
        /// When it started waiting (monotonic ms).
        let since: Int64
    }

    private struct Lane {
        var byKey: [String: Deque<Entry>] = [:]
        /// Keys with items, in turn order.
        var turns: Deque<String> = []

        var head: Entry? { turns.first.flatMap { byKey[$0]?.first } }
        /// Entries held.
        var count: Int { byKey.values.reduce(0) { $0 + $1.count } }

        mutating func push(_ entry: Entry, key: String, front: Bool) {
            if byKey[key] == nil {
                byKey[key] = [entry]
                if front { turns.prepend(key) } else { turns.append(key) }
            } else if front {
                byKey[key]!.prepend(entry)
            } else {
                byKey[key]!.append(entry)
            }
        }

        /// Forgets the keys left with no entries, and their turns.
        mutating func dropEmptyKeys() {
            var kept = Deque<String>()
            for key in turns {
                if byKey[key]?.isEmpty ?? true { byKey[key] = nil } else { kept.append(key) }
            }
            turns = kept
        }

        /// Removes the head; its key goes to the back of the turns when it has more.
        mutating func popHead() -> Entry? {
            guard let key = turns.popFirst(), let entry = byKey[key]?.popFirst() else { return nil }
            if byKey[key]!.isEmpty {
                byKey[key] = nil
            } else {
                turns.append(key)
            }
            return entry
        }
    }

    /// The ten lanes, made on the first push (a service that never queues costs nothing).
    private var lanes: [Lane] = []
    /// Entries held, live or stale.
    private(set) var count = 0

    /// Whether no entry is held.
    var isEmpty: Bool { count == 0 }

    /// Adds an item at the back of its key's queue in its priority's lane (at the front for an
    /// item put back, such as a retried call).
    mutating func push(_ id: ID, priority: Int, key: String = "", since: Int64, front: Bool = false) {
        if lanes.isEmpty { lanes = Array(repeating: Lane(), count: 10) }
        lanes[min(9, max(0, priority))].push(Entry(id: id, since: since), key: key, front: front)
        count += 1
    }

    /// The head with the highest effective priority (ties: the one waiting longest), with that
    /// priority; nil when empty.
    func best(now: Int64, agingMilliseconds: Int64) -> (entry: Entry, lane: Int, effective: Double)? {
        var best: (entry: Entry, lane: Int, effective: Double)?
        let step = Double(max(1, agingMilliseconds))
        guard count > 0 else { return nil }
        for lane in stride(from: 9, through: 0, by: -1) {
            guard let head = lanes[lane].head else { continue }
            let effective = Double(lane) + Double(max(0, now - head.since)) / step
            if let current = best, current.effective > effective || (current.effective == effective && current.entry.since <= head.since) {
                continue
            }
            best = (head, lane, effective)
        }
        return best
    }

    /// Removes and returns the best live item; stale heads met on the way are dropped and reported
    /// through `dropped`.
    mutating func popBest(now: Int64, agingMilliseconds: Int64, isLive: (ID) -> Bool, dropped: (ID) -> Void = { _ in }) -> ID? {
        while let (entry, lane, _) = best(now: now, agingMilliseconds: agingMilliseconds) {
            _ = lanes[lane].popHead()
            count -= 1
            if isLive(entry.id) { return entry.id }
            dropped(entry.id)
        }
        return nil
    }

    /// Removes and returns the head of the lowest non-empty lane up to `maxPriority`, with its lane.
    mutating func popLowest(upTo maxPriority: Int) -> (id: ID, lane: Int)? {
        guard count > 0 else { return nil }
        for lane in 0...min(9, max(0, maxPriority)) {
            if let entry = lanes[lane].popHead() {
                count -= 1
                return (entry.id, lane)
            }
        }
        return nil
    }

    /// Drops the head of `lane` (after ``best(now:agingMilliseconds:)`` named it).
    mutating func removeHead(ofLane lane: Int) {
        if lanes.indices.contains(lane), lanes[lane].popHead() != nil { count -= 1 }
    }

    /// Drops the entries at the front of each key's line for which `isLive` does not hold, up to
    /// the first live one; returns how many it dropped, and reports the lane of each through
    /// `dropped`. A key left with no entries loses its turn. Allocates nothing when no key is
    /// emptied (it runs once per CALL admitted under a wait limit).
    mutating func dropStaleHeads(isLive: (ID) -> Bool, dropped lost: (_ lane: Int) -> Void = { _ in }) -> Int {
        guard count > 0 else { return 0 }
        var dropped = 0
        for index in lanes.indices where !lanes[index].turns.isEmpty {
            var emptied = false
            var position = lanes[index].byKey.values.startIndex
            while position != lanes[index].byKey.values.endIndex {
                while let first = lanes[index].byKey.values[position].first, !isLive(first.id) {
                    lanes[index].byKey.values[position].removeFirst()
                    dropped += 1
                    lost(index)
                }
                emptied = emptied || lanes[index].byKey.values[position].isEmpty
                lanes[index].byKey.values.formIndex(after: &position)
            }
            if emptied { lanes[index].dropEmptyKeys() }
        }
        count -= dropped
        return dropped
    }

    /// Drops the entries for which `remove` holds; the others keep their order.
    mutating func removeAll(where remove: (ID) -> Bool) {
        guard count > 0 else { return }
        for index in lanes.indices {
            var lane = Lane()
            for key in lanes[index].turns {
                for entry in lanes[index].byKey[key] ?? [] where !remove(entry.id) {
                    lane.push(entry, key: key, front: false)
                }
            }
            lanes[index] = lane
        }
        count = lanes.reduce(0) { $0 + $1.count }
    }

    /// Every entry's id, highest lane first (for failing or counting them all).
    var ids: [ID] {
        lanes.reversed().flatMap { lane in lane.turns.flatMap { lane.byKey[$0]?.map(\.id) ?? [] } }
    }

    /// How many entries each priority holds.
    var countsByPriority: [Int] {
        lanes.isEmpty ? Array(repeating: 0, count: 10) : lanes.map(\.count)
    }

    /// How many entries wait in lanes of `priority` and above (those a new item of that priority
    /// waits behind, aging aside).
    func count(atOrAbove priority: Int) -> Int {
        guard count > 0 else { return 0 }
        return lanes[min(9, max(0, priority))...].reduce(0) { $0 + $1.count }
    }

    /// When the longest-waiting live entry in lanes of `priority` and above started waiting; nil
    /// when none waits there. Stale entries (`isLive` false) are passed over.
    func oldestSince(atOrAbove priority: Int, isLive: (ID) -> Bool) -> Int64? {
        guard count > 0 else { return nil }
        var oldest: Int64?
        for lane in lanes[min(9, max(0, priority))...] {
            for entries in lane.byKey.values {
                // Entries of one key wait in arrival order: its first live one is its oldest.
                guard let first = entries.first(where: { isLive($0.id) }) else { continue }
                oldest = min(oldest ?? first.since, first.since)
            }
        }
        return oldest
    }

    /// How many entries `key` holds in all lanes.
    func count(ofKey key: String) -> Int { count == 0 ? 0 : lanes.reduce(0) { $0 + ($1.byKey[key]?.count ?? 0) } }
}
