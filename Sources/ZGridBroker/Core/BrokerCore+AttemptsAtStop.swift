import ZGridJobStore
import ZGridProtocol

/// Job attempts that a shutdown of the grid cut short.
///
/// Once the broker refuses new work it is stopping, and so, under `zgrid up`, are its workers: at
/// the end of the shutdown grace they are forced out and answer the attempts they still run with
/// `shuttingDown` (or are killed, and lost). Such an attempt did not fail: it is queued again as the
/// recovery after a restart queues an attempt the broker's stop left running, so that it runs
/// again once the broker starts again instead of using up the job's attempts or being
/// dead-lettered. It does not count: the job's attempts go back to those before it, so that the
/// attempt runs again under the same number and however many stops cut it short, the count never
/// goes past the job's maximum.
extension BrokerCore {
    /// The failures of a job attempt that a stopping grid, not the job, causes.
    static let stopFailureCodes: Set<ErrorCode> = [.shuttingDown, .workerLost]

    /// What a cut-short attempt's job records as its last error (as after a restart).
    static let attemptCutShortError = "the broker stopped while this attempt ran"

    /// What a job records as its last error when a worker resuming its session after a stall of
    /// the broker did not have its attempt.
    static let attemptLostAtResumeError =
        "the broker stalled and this attempt did not reach its worker (or its answer was lost) before the worker resumed its session"

    /// `record`, whose attempt the broker's stop cut short (or left running, as the recovery at
    /// start finds it), queued again: that attempt not counted, no worker, `error` (by default
    /// ``attemptCutShortError``).
    func queuedAgainAfterStop(_ record: JobRecord, error: String = Self.attemptCutShortError) -> JobRecord {
        var record = record
        record.state = .queued
        record.attempts = max(0, record.attempts - 1)
        record.worker = nil
        record.lastError = error
        record.updatedAt = wallNow
        return record
    }

    /// Whether a job attempt that failed with `code` was cut short by the broker's stop.
    func attemptCutShortByStop(_ code: ErrorCode) -> Bool {
        refusingNewWork && Self.stopFailureCodes.contains(code)
    }

    /// Queues job `id` again after its attempt was cut short by the stop (or, with `error` saying
    /// so, lost at a worker's session resume): stored as queued, that attempt not counted, so it
    /// runs again under the same number.
    mutating func requeueAttemptCutShort(_ id: Int64, error: String = Self.attemptCutShortError, into actions: inout [BrokerAction]) {
        guard var entry = jobs[id] else { return }
        entry.record = queuedAgainAfterStop(entry.record, error: error)
        jobs[id] = entry
        pushQueued(entry.record)
        actions.append(storeWrite([.upsert(entry.record)], token: takeToken()))
        actions.append(cutShortEvent(entry.record))
    }

    /// The `retried` event of `record`, queued again by ``queuedAgainAfterStop(_:)``: it names the
    /// attempt cut short, the one that runs again.
    func cutShortEvent(_ record: JobRecord) -> BrokerAction {
        jobEvent(.retried, record, attempt: record.attempts + 1, error: record.lastError)
    }
}
