extension Dictionary {
    /// Gives memory back after a burst: a dictionary keeps the capacity of its largest size, so
    /// once it holds far fewer entries it is copied into one sized for what it holds.
    mutating func shrinkAfterBurst(slack: Int = 4096) {
        guard capacity > 4 * count + slack else { return }
        self = Dictionary(minimumCapacity: count).merging(self) { $1 }
    }
}

extension Set {
    /// As ``Swift/Dictionary/shrinkAfterBurst(slack:)``.
    mutating func shrinkAfterBurst(slack: Int = 4096) {
        guard capacity > 4 * count + slack else { return }
        var copy = Set(minimumCapacity: count)
        copy.formUnion(self)
        self = copy
    }
}

extension BrokerCore {
    /// Shrinks the tables of calls and clients once a burst of calls has drained (at heartbeats).
    mutating func shrinkAfterBurst() {
        calls.shrinkAfterBurst()
        callsByClientKey.shrinkAfterBurst()
        scatters.shrinkAfterBurst()
        scattersByClientKey.shrinkAfterBurst()
        clients.shrinkAfterBurst()
        // Walked by index, in place: a live view of the keys would make the first change copy the table.
        var index = clients.startIndex
        while index != clients.endIndex {
            clients.values[index].calls.shrinkAfterBurst()
            clients.formIndex(after: &index)
        }
    }
}
