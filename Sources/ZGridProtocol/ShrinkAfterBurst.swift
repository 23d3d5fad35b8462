extension Dictionary {
    /// Gives memory back after a burst: a dictionary keeps the capacity of its largest size, so
    /// once it holds far fewer entries (by more than `slack`) it is copied into one sized for what
    /// it holds.
    package mutating func shrinkAfterBurst(slack: Int = 4096) {
        guard capacity > 4 * count + slack else { return }
        self = Dictionary(minimumCapacity: count).merging(self) { $1 }
    }
}

extension Set {
    /// As ``Swift/Dictionary/shrinkAfterBurst(slack:)``.
    package mutating func shrinkAfterBurst(slack: Int = 4096) {
        guard capacity > 4 * count + slack else { return }
        var copy = Set(minimumCapacity: count)
        copy.formUnion(self)
        self = copy
    }
}
