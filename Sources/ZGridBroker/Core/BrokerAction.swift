import Foundation
import ZGridJobStore
import ZGridProtocol

/// What the core asks the I/O shell to do.
///
/// The loop moves one or two actions per call, so the frequent cases are kept small: cases that
/// carry a large value (job records, store requests, events, notices) are `indirect`, boxed on the
/// heap, which keeps every action at about 100 bytes instead of nearly 300.
public enum BrokerAction: Sendable, Equatable {
    /// Send REQUEST to a worker; with `consume` the payload is given away, otherwise shared and kept.
    case request(worker: PeerID, dispatchID: UInt64, function: String, header: CallHeader, payload: PayloadHandle, consume: Bool)
    /// Send REQUEST to a worker with one frame of a payload as its input (a part of a parallel
    /// map); the payload is shared, never given away.
    case requestPart(worker: PeerID, dispatchID: UInt64, function: String, header: CallHeader, payload: PayloadHandle, frame: Int)
    /// Send REQUEST to a worker for one attempt of a background job.
    indirect case requestJob(worker: PeerID, dispatchID: UInt64, function: String, header: CallHeader, payload: [UInt8])
    /// Send a batch REQUEST to a worker: the items frame, then one payload frame per job.
    indirect case requestBatch(
        worker: PeerID, dispatchID: UInt64, function: String, header: CallHeader, items: [BatchItems.Item], payloads: [[UInt8]])
    /// Hand writes to the job store; `token` comes back in ``BrokerEvent/storeCommitted(tokens:)``.
    indirect case storeWrite([StoreWrite], token: UInt64)
    /// Ask the job store; the answer comes back in ``BrokerEvent/storeRead(token:_:)``.
    indirect case storeRead(StoreRead, token: UInt64)
    /// Send ACCEPTED to a client: its job is durable.
    case accepted(client: PeerID, requestID: UInt64, jobID: UInt64)
    /// Send JOB-REPLY to a client.
    indirect case jobReply(client: PeerID, requestID: UInt64, answer: JobAnswer)
    /// A job reached a final state: the shell copies the result payload (if any) into the record and
    /// hands it to the store with `token`. The payload stays held for the ``jobFinished(_:result:notify:)``
    /// the core sends once that write has committed.
    indirect case storeFinal(JobRecord, result: PayloadHandle?, token: UInt64)
    /// A job's final record is on disk (or the store failed, and `notify` is empty): the shell copies
    /// the result payload (if any) into the record, publishes the job's final event, sends each of
    /// `notify` a JOB-REPLY with the record, and drops the payload.
    indirect case jobFinished(JobRecord, result: PayloadHandle?, notify: [ClientRequest])
    /// Send PART to a client: one part of a scatter, succeeded (the payload is given away) or failed.
    case part(client: PeerID, requestID: UInt64, index: Int, outcome: PartOutcome)
    /// Send DONE to a client: the scatter is over.
    case scatterDone(client: PeerID, requestID: UInt64, summary: ScatterSummary)
    /// Send REPLY to a client, giving the payload away.
    case reply(client: PeerID, requestID: UInt64, payload: PayloadHandle)
    /// Send ERROR to a client.
    case fail(client: PeerID, requestID: UInt64, code: ErrorCode, message: String)
    /// Send ERROR BUSY to a client with a retry-after time: admission control refused the call or job.
    case refuse(client: PeerID, requestID: UInt64, message: String, retryAfterMilliseconds: Int64)
    /// Send CANCEL to a worker for a request it runs.
    case cancel(worker: PeerID, dispatchID: UInt64)
    /// Send HEARTBEAT to a worker.
    case heartbeatWorker(PeerID)
    /// Send HEARTBEAT to a client.
    case heartbeatClient(PeerID)
    /// Send DISCONNECT to a worker, telling it to register again.
    case disconnectWorker(PeerID)
    /// Answer a worker's READY with DISCONNECT giving `reason` (frame 2): the broker refuses to
    /// register it, and registering again at once would be refused the same way.
    indirect case refuseWorker(PeerID, reason: String)
    /// Answer a worker's DISCONNECT with a HEARTBEAT marked as its acknowledgement, after every
    /// REQUEST sent to it: the worker then knows that no more will arrive.
    case acknowledgeDrain(PeerID)
    /// Drop payload frames the core no longer needs.
    case release(PayloadHandle)
    /// Something worth a log line.
    indirect case notice(BrokerNotice)
    /// An event for the event log and its subscribers (numbered by the event hub).
    indirect case publish(EventRecord)
}

/// A client's request awaiting an answer.
public struct ClientRequest: Sendable, Equatable {
    /// The client.
    public let client: PeerID
    /// Its request id.
    public let requestID: UInt64

    /// Names a request.
    public init(client: PeerID, requestID: UInt64) {
        self.client = client
        self.requestID = requestID
    }
}

/// How one part of a scatter ended, as sent to the client.
public enum PartOutcome: Sendable, Equatable {
    /// The part's reply payload.
    case success(PayloadHandle)
    /// Why the part is missing.
    case failure(ErrorCode, String)
}

/// Notable events, logged by the shell (never one per call).
public enum BrokerNotice: Sendable, Equatable, CustomStringConvertible {
    /// A worker registered.
    case workerJoined(PeerID, functions: [String], concurrency: Int)
    /// A worker left: `reason` says whether it disconnected or went silent.
    case workerLeft(PeerID, reason: String, inFlight: Int)
    /// A malformed message was dropped.
    case malformed(PeerID, MalformedReason)
    /// A background job was dead-lettered after its last attempt failed.
    case jobDead(id: Int64, function: String, attempts: Int, error: String)
    /// A peer broke the protocol (for example READY twice); the message was dropped.
    case protocolViolation(PeerID, String)
    /// A worker's READY was refused (answered DISCONNECT with `reason`).
    case workerRefused(PeerID, reason: String)
    /// The broker's loop did not run for `milliseconds` (the process was stopped, or starved of
    /// CPU): its peers got a fresh expiry instead of having that time counted as their silence.
    case stalled(milliseconds: Int64)
    /// A worker registered again as `peer` and resumed its session `previous`: `moved` calls still
    /// running there moved to `peer`, and `cancelled` dispatch ids it listed were cancelled.
    case sessionResumed(PeerID, previous: PeerID, moved: Int, cancelled: Int)
    /// A worker registered as `peer` and asked to resume the session `previous`, but with another
    /// CURVE key than that session's: it was registered without resuming, `previous` left as it is.
    case resumeRefused(PeerID, previous: PeerID)
    /// A schedule's slot (ms since 1970) made no job: admission control refused it, for `reason`.
    case scheduleSlotSkipped(name: String, slot: Int64, reason: String)
    /// A schedule came to `count` + 1 missed slots at once (the broker was down, or its clock
    /// stepped forward) and, with `catch_up = "latest"`, fires one job for the latest, `slot`:
    /// the `count` slots from `first` on make none.
    case scheduleSlotsCoalesced(name: String, count: Int, first: Int64, slot: Int64)
    /// A schedule's cron expression is not the one its recorded slot was computed from: it fires
    /// from the broker's start on, without catching up the slots of the new expression.
    case scheduleChanged(name: String, from: String, to: String)

    /// A wall time (ms since 1970) as ISO 8601 in UTC.
    private static func utc(_ milliseconds: Int64) -> String {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000).ISO8601Format()
    }

    /// One log line.
    public var description: String {
        switch self {
        case .workerJoined(let peer, let functions, let concurrency):
            "worker \(peer) joined: functions \(functions.joined(separator: ",")), concurrency \(concurrency)"
        case .workerLeft(let peer, let reason, let inFlight):
            "worker \(peer) left (\(reason)) with \(inFlight) calls in flight"
        case .malformed(let peer, let reason):
            "dropped malformed message from \(peer): \(reason)"
        case .jobDead(let id, let function, let attempts, let error):
            "job \(id) (\(function)) dead-lettered after \(attempts) attempts: \(error)"
        case .protocolViolation(let peer, let what):
            "dropped message from \(peer): \(what)"
        case .workerRefused(let peer, let reason):
            "refused worker \(peer): \(reason)"
        case .stalled(let milliseconds):
            "the broker did not run for \(milliseconds) ms (stopped or starved of CPU): its workers and clients get a fresh expiry"
        case .sessionResumed(let peer, let previous, let moved, let cancelled):
            "worker \(peer) resumed the session of \(previous): took over \(moved) running calls, cancelled \(cancelled)"
        case .resumeRefused(let peer, let previous):
            "worker \(peer) asked to resume the session of \(previous), which has another CURVE key: registered it without resuming"
        case .scheduleSlotSkipped(let name, let slot, let reason):
            "schedule '\(name)' skipped its slot of \(Self.utc(slot)): \(reason)"
        case .scheduleChanged(let name, let from, let to):
            "schedule '\(name)' changed its cron expression from \"\(from)\" to \"\(to)\": it fires from now on, "
                + "without catching up the slots of the new expression while the broker was down"
        case .scheduleSlotsCoalesced(let name, let count, let first, let slot):
            "schedule '\(name)' missed \(count + 1) slots (\(Self.utc(first)) to \(Self.utc(slot))): one job for the latest, "
                + "\(count) earlier \(count == 1 ? "slot" : "slots") coalesced into it (catch_up = \"latest\")"
        }
    }
}
