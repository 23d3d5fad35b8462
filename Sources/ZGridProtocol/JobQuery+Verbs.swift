extension JobQuery {
    /// Why `verb` cannot take this filter, or nil when it can: `limit` and `afterID` page a LIST
    /// and `finishedBefore` bounds a PURGE. A key left out by its verb would widen the selection
    /// (a purge of one page would delete every match), so it is refused, never ignored.
    public func refusal(for verb: JobsVerb) -> String? {
        switch verb {
        case .list:
            guard finishedBefore != nil else { return nil }
            return "finishedBefore is a PURGE filter; LIST does not take it"
        case .purge:
            let keys = [limit.map { _ in "limit" }, afterID.map { _ in "afterID" }].compactMap { $0 }
            guard !keys.isEmpty else { return nil }
            let named = keys.count == 1 ? "\(keys[0]) is a LIST filter" : "limit and afterID are LIST filters"
            return "\(named); PURGE does not take \(keys.count == 1 ? "it" : "them"): it would delete every match, not a page"
        }
    }
}
