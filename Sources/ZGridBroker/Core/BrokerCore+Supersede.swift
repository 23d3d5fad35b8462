import ZGridJobStore
import ZGridProtocol

/// Replace keys: a job with a replace key cancels the queued (or scheduled, or deferred) job that
/// holds the key, whether or not that job's own submit has committed yet, so that overlapping
/// submits end as sequential ones do: the latest wins.
extension BrokerCore {
    /// Cancels the unfinished, not running job `earlier` in favour of the job `id` with the same
    /// replace key, returning its final record for the caller to write in the same transaction as
    /// job `id`; nil (nothing done) when `earlier` is running or not in memory.
    ///
    /// A job superseded before its submit committed is still acknowledged once that commit comes
    /// (its client learns its id and, asking, that it was superseded): its `queued` (or
    /// `scheduled`) event is published here, before its `cancelled` one.
    mutating func supersede(_ earlier: Int64, by id: Int64, into actions: inout [BrokerAction]) -> JobRecord? {
        guard let entry = jobs[earlier], entry.dispatchID == nil, [.queued, .scheduled, .deferred].contains(entry.record.state)
        else { return nil }
        if !entry.durable {
            uncommittedJobSettled(earlier)
            supersededBeforeCommit.insert(earlier)
            actions.append(jobEvent(entry.record.state == .scheduled ? .scheduled : .queued, entry.record))
        }
        guard let (record, waiting) = retireJob(earlier, state: .cancelled, error: "superseded by job \(id)") else { return nil }
        statistics.jobsSuperseded += 1
        statistics.jobsCancelled += 1
        actions.append(jobEvent(.cancelled, record, worker: record.worker, attempt: record.attempts, error: record.lastError))
        for request in waiting { reply(request, [record.info], into: &actions) }
        return record
    }

    /// Cancels the queued job `earlier` that waits only on disk (past the memory bound) in favour
    /// of the job `id` with the same replace key. Returns the store write that cancels it there, for
    /// the caller to write in the same transaction as job `id`; nil (nothing done) when `earlier` is
    /// not such a job.
    ///
    /// It is counted off the jobs on disk at once and skipped if a page read lists it; JOB WAITs
    /// held on it are answered from the store once the cancel is written.
    mutating func supersedeOnDisk(_ earlier: Int64, by id: Int64, into actions: inout [BrokerAction]) -> StoreWrite? {
        guard jobs[earlier] == nil, let holder = spilledKeyHolders.removeValue(forKey: earlier) else { return nil }
        let error = "superseded by job \(id)"
        unspill(holder.function)
        cancelledOnDisk.insert(earlier)
        if let key = holder.uniqueKey, uniqueJobs[key] == earlier { uniqueJobs[key] = nil }
        statistics.jobsSuperseded += 1
        statistics.jobsCancelled += 1
        actions.append(
            .publish(
                EventRecord(
                    at: wallNow, kind: GridEventKind.cancelled.rawValue, job: earlier, function: holder.function, tags: holder.tags,
                    attempt: holder.attempts, error: error)))
        for waiter in releaseWaits(on: earlier) { readJob(earlier, for: waiter.request, .status, into: &actions) }
        return .cancelQueued(id: earlier, error: error, at: wallNow)
    }

    /// The jobs found unfinished at start that a later one with the same replace key supersedes
    /// (a store written before superseding waited for nothing uncommitted may hold several), each
    /// with the id of the job holding the key: every queued, scheduled or deferred job with a
    /// replace key but the highest id of that key. A job that was running keeps running again.
    static func supersededAtRecovery(_ records: [JobRecord]) -> [Int64: Int64] {
        var holders: [String: Int64] = [:]
        for record in records where !record.state.isTerminal {
            if let key = record.replaceKey { holders[key] = max(holders[key] ?? record.id, record.id) }
        }
        var superseded: [Int64: Int64] = [:]
        for record in records where [.queued, .scheduled, .deferred].contains(record.state) {
            if let key = record.replaceKey, let holder = holders[key], holder != record.id { superseded[record.id] = holder }
        }
        return superseded
    }
}
