/// The unfinished jobs the core holds in memory, by id, counting per function those waiting to
/// run: queued (in a queue or batch group, or not yet committed), scheduled (delayed, or waiting
/// for a retry) and deferred (parked by load shedding). Admission counts them, with the queued
/// jobs waiting only on disk, against `max_queued_jobs`; a job that leaves memory (cancelled,
/// superseded, finished) stops counting at once, though its queue entry stays until popped.
///
/// Every change goes through the subscript (or ``removeValue(forKey:)``), which keeps the count.
struct JobTable {
    private var entries: [Int64: JobEntry] = [:]
    /// Queued, scheduled and deferred jobs, by function.
    private(set) var waitingByFunction: [String: Int] = [:]

    /// The job with `id`, or nil; setting it (nil removes it) keeps the counts.
    subscript(id: Int64) -> JobEntry? {
        get { entries[id] }
        set {
            let old: JobEntry?
            if let newValue { old = entries.updateValue(newValue, forKey: id) } else { old = entries.removeValue(forKey: id) }
            if let old { count(old, by: -1) }
            if let newValue { count(newValue, by: 1) }
        }
    }

    /// Removes the job with `id`, returning it.
    @discardableResult
    mutating func removeValue(forKey id: Int64) -> JobEntry? {
        guard let old = entries.removeValue(forKey: id) else { return nil }
        count(old, by: -1)
        return old
    }

    /// How many jobs it holds.
    var count: Int { entries.count }
    /// The jobs, in no particular order.
    var values: Dictionary<Int64, JobEntry>.Values { entries.values }
    /// The ids, in no particular order.
    var keys: Dictionary<Int64, JobEntry>.Keys { entries.keys }

    /// Queued, scheduled and deferred jobs of `function` in memory.
    func waiting(of function: String) -> Int { waitingByFunction[function] ?? 0 }

    private mutating func count(_ entry: JobEntry, by delta: Int) {
        guard [.queued, .scheduled, .deferred].contains(entry.record.state) else { return }
        let function = entry.record.function
        let total = (waitingByFunction[function] ?? 0) + delta
        waitingByFunction[function] = total > 0 ? total : nil
    }
}
