import DequeModule
import Foundation
import ZGridJobStore
import ZGridProtocol

/// A background job the core holds in memory: every unfinished job.
struct JobEntry {
    var record: JobRecord
    /// Committed to disk: only then is it acknowledged and dispatched.
    var durable: Bool
    /// The running attempt's dispatch id.
    var dispatchID: UInt64?
    /// The client that submitted it, while it counts against that client's limit.
    var owner: PeerID? = nil

    /// Whether the job waits in a queue to run: committed, queued, and no attempt running.
    var isWaitingToRun: Bool { durable && record.state == .queued && dispatchID == nil }

    /// Records that the job's next attempt starts now (`wallNow`) on `peer`, as `dispatchID`.
    mutating func startAttempt(on peer: PeerID, dispatchID: UInt64, wallNow: Int64) {
        record.state = .running
        record.attempts += 1
        record.startedAt = wallNow
        record.updatedAt = wallNow
        record.worker = peer.description
        self.dispatchID = dispatchID
    }
}

/// A job waiting for its run-at time.
struct ScheduledJob: Comparable {
    let runAt: Int64
    let id: Int64

    static func < (lhs: ScheduledJob, rhs: ScheduledJob) -> Bool { (lhs.runAt, lhs.id) < (rhs.runAt, rhs.id) }
}

/// A client waiting for a job to finish (JOB WAIT).
struct JobWaiter {
    let request: ClientRequest
    let deadline: Int64
}

/// When a JOB WAIT gives up.
struct WaiterDeadline: Comparable {
    let deadline: Int64
    let jobID: Int64
    let requestID: UInt64

    static func < (lhs: WaiterDeadline, rhs: WaiterDeadline) -> Bool {
        (lhs.deadline, lhs.jobID, lhs.requestID) < (rhs.deadline, rhs.jobID, rhs.requestID)
    }
}

/// A JOB RETRY whose write has not committed yet, and the JOB commands on its job that came after
/// it: they are handled once the write has committed or failed, in arrival order.
struct PendingRetry {
    let request: ClientRequest
    /// The job as queued again (the answer once committed).
    let record: JobRecord
    /// STATUS, CANCEL and RETRY commands, in arrival order.
    var held: [(request: ClientRequest, verb: JobVerb)] = []
}

/// A store read the core waits for, and what to do with its answer.
enum PendingRead {
    case job(ClientRequest, JobVerb, Int64)
    case list(ClientRequest)
    case purge(ClientRequest)
    case pageIn(String)
}

/// A small deterministic random generator (SplitMix64) for backoff jitter, so the core stays pure.
struct CoreRandom {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    /// A value in `0..<1`.
    mutating func unit() -> Double {
        state = state &+ 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Double(z >> 11) / Double(1 << 53)
    }
}

extension JobRecord {
    /// The record as reported to clients.
    var info: JobInfo {
        JobInfo(
            id: UInt64(id), function: function, state: state.rawValue, priority: priority, attempts: attempts, maxAttempts: maxAttempts,
            tags: tags, uniqueKey: uniqueKey, createdAt: createdAt, updatedAt: updatedAt, runAt: runAt, startedAt: startedAt,
            finishedAt: finishedAt, worker: worker, lastError: lastError, result: result.map { Data($0) })
    }
}
