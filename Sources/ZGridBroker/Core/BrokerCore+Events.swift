import ZGridJobStore
import ZGridProtocol

/// The events the core publishes for the event log: job transitions it decides (queued, scheduled,
/// started, retried, progress) and pool changes. Final job events are published by the shell with
/// the job's last write, since only the shell holds result bytes.
extension BrokerCore {
    /// An event about job `record`.
    func jobEvent(
        _ kind: GridEventKind, _ record: JobRecord, worker: String? = nil, attempt: Int? = nil, error: String? = nil,
        message: String? = nil, fraction: Double? = nil
    ) -> BrokerAction {
        .publish(
            EventRecord(
                at: wallNow, kind: kind.rawValue, job: record.id, function: record.function, tags: record.tags, worker: worker,
                attempt: attempt, fraction: fraction, message: message, error: error))
    }

    /// An event about the worker pool.
    func poolEvent(_ kind: GridEventKind, worker: PeerID? = nil, function: String? = nil, message: String? = nil) -> BrokerAction {
        .publish(EventRecord(at: wallNow, kind: kind.rawValue, function: function, worker: worker?.description, message: message))
    }

    /// PROGRESS from the worker running `dispatchID`: published at once, or held back until the
    /// job's progress interval has passed (the latest report wins). Progress of calls that are not
    /// job attempts is dropped.
    mutating func reportProgress(
        _ dispatchID: UInt64, on peer: PeerID, fraction: Double, message: String, now: Int64, into actions: inout [BrokerAction]
    ) {
        guard let call = calls[dispatchID], call.worker == peer, let id = call.job, let entry = jobs[id] else { return }
        let report = ProgressCoalescer.Report(fraction: fraction, message: message, attempt: entry.record.attempts, worker: peer)
        if progress.offer(report, for: id, now: now, interval: options.progressIntervalMilliseconds) {
            statistics.progressPublished += 1
            actions.append(progressEvent(report, entry.record))
        } else {
            statistics.progressCoalesced += 1
        }
    }

    /// Publishes held-back progress reports whose interval has passed.
    mutating func flushProgress(now: Int64, into actions: inout [BrokerAction]) {
        guard let due = progress.nextFlush, due <= now else { return }
        for (id, report) in progress.takeDue(now: now, interval: options.progressIntervalMilliseconds) {
            guard let entry = jobs[id], entry.dispatchID != nil, entry.record.attempts == report.attempt else { continue }
            statistics.progressPublished += 1
            actions.append(progressEvent(report, entry.record))
        }
    }

    /// When held-back progress is next due, in monotonic milliseconds.
    var nextProgressFlush: Int64? { progress.nextFlush }

    private func progressEvent(_ report: ProgressCoalescer.Report, _ record: JobRecord) -> BrokerAction {
        jobEvent(
            .progress, record, worker: report.worker.description, attempt: report.attempt, message: report.message,
            fraction: report.fraction)
    }
}

/// Coalesces progress reports: at most one per job per interval; reports in between replace each
/// other and the latest is published when the interval ends.
struct ProgressCoalescer {
    /// One report.
    struct Report {
        let fraction: Double
        let message: String
        let attempt: Int
        let worker: PeerID
    }

    private var lastPublished: [Int64: Int64] = [:]
    private var held: [Int64: Report] = [:]
    /// When the earliest held report is due (monotonic ms), nil when none is held.
    private(set) var nextFlush: Int64?

    /// Offers a report for `job`: true when it should be published now, false when it was held.
    mutating func offer(_ report: Report, for job: Int64, now: Int64, interval: Int64) -> Bool {
        if let last = lastPublished[job], now - last < interval {
            held[job] = report
            nextFlush = min(nextFlush ?? (last + interval), last + interval)
            return false
        }
        lastPublished[job] = now
        held[job] = nil
        return true
    }

    /// Takes the held reports that are due, marking them published now.
    mutating func takeDue(now: Int64, interval: Int64) -> [(Int64, Report)] {
        var due: [(Int64, Report)] = []
        var next: Int64?
        for (job, report) in held {
            let at = (lastPublished[job] ?? now) + interval
            if at <= now {
                due.append((job, report))
            } else {
                next = min(next ?? at, at)
            }
        }
        for (job, _) in due {
            held[job] = nil
            lastPublished[job] = now
        }
        nextFlush = next
        return due.sorted { $0.0 < $1.0 }
    }

    /// Forgets a job whose attempt ended.
    mutating func forget(_ job: Int64) {
        lastPublished[job] = nil
        held[job] = nil
    }
}
