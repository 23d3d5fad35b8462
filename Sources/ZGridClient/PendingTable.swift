import ZGridProtocol

/// The client's table of requests waiting for an answer, by request id, that also counts the
/// calls and scatters among them that take room in the broker's limit of calls in flight per
/// client (see ``ClientLoop/Pending/countsInFlight``): adding and removing an entry keeps the
/// count, so knowing whether there is room costs no walk of the table.
struct PendingTable: Sequence {
    private var entries = IDMap<ClientLoop.Pending>()
    /// How many entries count against the broker's limit of calls in flight.
    private(set) var inFlight = 0

    /// The entry for `id`, nil when there is none; setting nil removes it.
    subscript(id: UInt64) -> ClientLoop.Pending? {
        get { entries[id] }
        set {
            if let newValue {
                if let old = entries.updateValue(newValue, forKey: id), old.countsInFlight { inFlight -= 1 }
                if newValue.countsInFlight { inFlight += 1 }
            } else {
                removeValue(forKey: id)
            }
        }
    }

    /// Removes and returns the entry for `id`.
    @discardableResult
    mutating func removeValue(forKey id: UInt64) -> ClientLoop.Pending? {
        guard let old = entries.removeValue(forKey: id) else { return nil }
        if old.countsInFlight { inFlight -= 1 }
        return old
    }

    /// Removes every entry.
    mutating func removeAll() {
        entries.removeAll()
        inFlight = 0
    }

    /// How many entries the table holds.
    var count: Int { entries.count }

    /// Whether the table is empty.
    var isEmpty: Bool { entries.isEmpty }

    /// How many entries the table holds room for.
    var capacity: Int { entries.capacity }

    /// The entries, in no particular order.
    var values: Dictionary<IDKey, ClientLoop.Pending>.Values { entries.values }

    /// The ids, in no particular order.
    var keys: LazyMapSequence<Dictionary<IDKey, ClientLoop.Pending>.Keys, UInt64> { entries.keys }

    /// Whether the table holds an entry for `id`.
    func contains(_ id: UInt64) -> Bool { entries.contains(id) }

    /// Gives memory back after a burst.
    mutating func shrinkAfterBurst() { entries.shrinkAfterBurst() }

    /// Walks the entries as (id, entry) pairs, in no particular order.
    func makeIterator() -> IDMap<ClientLoop.Pending>.Iterator { entries.makeIterator() }
}
