import DequeModule
import ZGridProtocol

/// A registered worker, as the core tracks it.
///
/// A class, so that the loop reads and changes a worker in place: reading a struct out of the
/// workers dictionary copies it, a retain and release of each of its collections, several times
/// per call. The core owns its records and never hands them out; a copy of the core would share
/// them, so the core is not copied. Only the core's thread touches them, and no access to a field
/// overlaps another to the same field, so the fields changed per call skip the runtime's
/// exclusivity checks.
final class WorkerRecord {
    /// The service keys the worker is registered under (its functions, pinned key and shards).
    let functions: [String]
    /// The records of `functions`, in the same order. A record stays in the core's table while a
    /// worker that is not draining serves it, so these are the table's own while they are used.
    @exclusivity(unchecked) var services: [ServiceRecord] = []
    let capacity: Int
    /// Dispatch ids sent to this worker and not yet answered; the worker's used credit.
    @exclusivity(unchecked) var inFlight = IDSet()
    @exclusivity(unchecked) var lastSeen: Int64
    /// When this worker last got work, for least-recently-used tie breaking.
    @exclusivity(unchecked) var lastDispatchSequence: UInt64 = 0
    /// The dispatch ids of `inFlight` that are background job attempts.
    @exclusivity(unchecked) var jobAttempts = IDSet()
    /// How many job attempts the worker runs.
    var jobsInFlight: Int { jobAttempts.count }
    /// Set after DISCONNECT: no new work, removed once idle.
    @exclusivity(unchecked) var draining = false
    /// Drained by an operator: no new work, but kept (heartbeating) until it leaves.
    @exclusivity(unchecked) var heldByOperator = false
    /// Functions this worker takes batches of.
    @exclusivity(unchecked) var batchFunctions: Set<String> = []
    /// When the worker heartbeats, which decides when it counts as lost for silence.
    let heartbeats: WorkerHeartbeats
    /// When the last call running on the worker ended (answered, or by deadline, cancel or its
    /// client's loss), or when it registered: kept only for a worker that heartbeats only while
    /// idle, whose expiry counts from this or from `lastSeen`, whichever is later.
    @exclusivity(unchecked) var lastCallEndedAt: Int64
    /// The worker's CURVE public key (Z85) with CURVE on, nil without: a READY that resumes this
    /// worker's session must come with the same key.
    let curveKey: String?

    /// A worker serving `functions` (service keys) with `capacity` calls at once, seen at
    /// `lastSeen`, that heartbeats as `heartbeats` says, with the CURVE key `curveKey` (if any).
    init(functions: [String], capacity: Int, lastSeen: Int64, heartbeats: WorkerHeartbeats = .always, curveKey: String? = nil) {
        self.functions = functions
        self.capacity = capacity
        self.lastSeen = lastSeen
        self.heartbeats = heartbeats
        self.curveKey = curveKey
        lastCallEndedAt = lastSeen
    }

    /// Whether the worker sent DISCONNECT itself (it drains, not held by an operator).
    var saidDisconnect: Bool { draining && !heldByOperator }

    var hasCredit: Bool { !draining && inFlight.count < capacity }

    /// Counts `dispatchID` as answered by this worker; false when it was not in flight here.
    func answered(_ dispatchID: UInt64) -> Bool {
        if !jobAttempts.isEmpty { jobAttempts.remove(dispatchID) }
        return inFlight.remove(dispatchID) != nil
    }

    /// Counts `dispatchID` as sent to this worker, as its dispatch number `sequence`.
    func took(_ dispatchID: UInt64, sequence: UInt64) {
        inFlight.insert(dispatchID)
        lastDispatchSequence = sequence
    }
    /// Calls in flight, concurrency and when it last got work: what choosing a worker compares.
    var load: (inFlight: Int, capacity: Int, sequence: UInt64) { (inFlight.count, capacity, lastDispatchSequence) }
}

/// Everything the core knows about one function name.
///
/// A class for the same reasons as ``WorkerRecord``: the core reads and changes it in place, and
/// its per-call fields skip the exclusivity checks.
final class ServiceRecord {
    /// Workers serving the function that are not draining.
    @exclusivity(unchecked) private(set) var workers: [PeerID] = []
    /// The records of `workers`, in the same order. Unowned: a worker record holds its service
    /// records, and a worker leaves its services (``remove(_:)``) before the core drops it.
    @exclusivity(unchecked) private(set) var members: [Member] = []

    /// A worker record a service refers to without keeping it alive.
    ///
    /// `unowned(unsafe)`: choosing a worker reads every member's record per call, and a checked
    /// unowned reference costs an atomic retain and release of its own per read. The core keeps the
    /// rule above (a worker leaves its services before its record is dropped), which the
    /// AddressSanitizer run of the tests checks.
    struct Member {
        unowned(unsafe) let record: WorkerRecord
    }
    /// Calls waiting for a worker, by priority with aging (entries of finished calls are skipped lazily).
    @exclusivity(unchecked) var queue = WaitQueue<UInt64>()
    /// How many entries of `queue` belong to calls that are gone (cancelled, expired, client lost).
    @exclusivity(unchecked) var staleEntries = 0
    /// How many calls really wait in `queue`.
    var waitingCount: Int { queue.count - staleEntries }
    /// Since when the function has had no worker; nil while it has one.
    @exclusivity(unchecked) var noWorkersSince: Int64?

    /// Adds a worker, `peer` with its record `worker`.
    func add(_ peer: PeerID, _ worker: WorkerRecord) {
        workers.append(peer)
        members.append(Member(record: worker))
    }

    /// Removes the worker `peer`; false when it was not one of the service's workers.
    @discardableResult
    func remove(_ peer: PeerID) -> Bool {
        guard let index = workers.firstIndex(of: peer) else { return false }
        workers.remove(at: index)
        members.remove(at: index)
        return true
    }

    /// A service with no workers and nothing queued, without workers since `noWorkersSince`.
    init(noWorkersSince: Int64? = nil) {
        self.noWorkersSince = noWorkersSince
    }
}

/// One call between its CALL and its answer; also one part of a scatter.
///
/// A class: the record is looked up, changed and removed several times per call, and a struct of
/// this size was moved in and out of the table each time (and copied whole to be read). The core
/// makes a new record for every call, scatter part and job attempt, and never stores one under
/// two ids. Like ``WorkerRecord``'s, its fields skip the runtime's exclusivity checks.
final class CallRecord {
    let client: PeerID
    let requestID: UInt64
    let function: String
    /// The routing key: the function, `function#shard` for one shard, `function@peer` for one worker.
    @exclusivity(unchecked) var service: String
    @exclusivity(unchecked) var header: CallHeader
    /// Payload the core still holds: while queued, and while running when the call may be retried.
    /// For a scatter part, the scatter's payload (which the part does not own).
    @exclusivity(unchecked) var payload: PayloadHandle?
    /// The scatter this call is a part of, with the part's index; nil for a plain call.
    @exclusivity(unchecked) var scatter: (id: UInt64, part: Int)? = nil
    /// For a part of a parallel map: which payload frame is its input.
    @exclusivity(unchecked) var frame: Int? = nil
    /// Whether the call may run again elsewhere after its worker is lost or fails.
    @exclusivity(unchecked) var retryable: Bool = false
    /// The background job this call is an attempt of.
    @exclusivity(unchecked) var job: Int64? = nil
    /// The background jobs this call runs as one batch, in item order.
    @exclusivity(unchecked) var batch: [Int64]? = nil
    let deadline: Int64
    /// The worker running the call, nil while queued.
    @exclusivity(unchecked) var worker: PeerID?
    /// Order of arrival, for FIFO across services.
    @exclusivity(unchecked) var sequence: UInt64
    /// When the CALL arrived (monotonic nanoseconds), for its duration; 0 for other kinds of call.
    @exclusivity(unchecked) var arrivedAt: UInt64 = 0
    /// Whether a worker served the function when the CALL arrived (see ``CallCompletion/function``).
    @exclusivity(unchecked) var servedOnArrival = false
    /// For a plain call, the record of the client it came from, which lists it by request id.
    @exclusivity(unchecked) var caller: ClientRecord?

    /// A call from `client` (its `requestID`) to `function`, routed by `service`.
    init(
        client: PeerID, requestID: UInt64, function: String, service: String, header: CallHeader, payload: PayloadHandle?,
        deadline: Int64, worker: PeerID?, sequence: UInt64
    ) {
        self.client = client
        self.requestID = requestID
        self.function = function
        self.service = service
        self.header = header
        self.payload = payload
        self.deadline = deadline
        self.worker = worker
        self.sequence = sequence
    }

    /// Whether the call releases its payload when it ends (a scatter part does not: the scatter does).
    var ownsPayload: Bool { scatter == nil && job == nil && batch == nil }

    /// Marks the call as running on `peer` and returns what its REQUEST carries: the header with
    /// the time left until the deadline, the payload (and frame, for a map part) and whether the
    /// REQUEST consumes the payload (the call keeps it only to retry). Nil when it holds no payload.
    func startRunning(
        on peer: PeerID, maxAttempts: Int, now: Int64
    ) -> (function: String, header: CallHeader, payload: PayloadHandle, frame: Int?, consume: Bool)? {
        guard let held = payload else { return nil }
        let keep = !ownsPayload || (retryable && Int(header.attempt) < maxAttempts)
        worker = peer
        payload = keep ? held : nil
        var sent = header
        sent.timeoutMilliseconds = UInt32(clamping: max(1, deadline - now))
        return (function, sent, held, frame, !keep)
    }
}

/// One scatter: its parts are calls; it answers the client part by part, then DONE.
struct ScatterRecord {
    let client: PeerID
    let requestID: UInt64
    let function: String
    let payload: PayloadHandle
    let parts: Int
    let needed: Int
    var succeeded = 0
    var failed = 0
    /// Parts not answered yet, by dispatch id.
    var open: Set<UInt64> = []

    /// Every part answered; or, when fewer than all are needed, enough succeeded or too many failed.
    var isOver: Bool {
        succeeded + failed == parts || (needed < parts && (succeeded >= needed || parts - failed < needed))
    }
}

/// How a call or scatter part ended.
enum CallOutcome {
    case reply(PayloadHandle)
    case failure(ErrorCode, String)
    /// The per-job results of a batch.
    case batch([BatchResult])
}

/// A client identity and one of its request ids.
struct ClientCallKey: Hashable {
    let client: PeerID
    let requestID: UInt64

    /// A fast hash (see ``PeerID/_rawHashValue(seed:)``): this key is looked up on every call and reply.
    func _rawHashValue(seed: Int) -> Int {
        PeerID.mix(UInt64(UInt(bitPattern: client._rawHashValue(seed: seed))), requestID, seed: seed)
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(_rawHashValue(seed: 0))
    }
}

/// A client seen recently.
///
/// A class for the same reasons as ``WorkerRecord``: the core reads and changes it in place, and
/// its per-call fields skip the exclusivity checks.
final class ClientRecord {
    @exclusivity(unchecked) var lastSeen: Int64
    /// The dispatch ids of the client's calls in flight, by request id.
    @exclusivity(unchecked) var calls = IDMap<UInt64>()
    /// Scatters in flight.
    @exclusivity(unchecked) var scatters = 0
    /// Held JOB WAITs by request id, with the job each waits on.
    var jobWaits: [UInt64: Int64] = [:]

    /// A client with nothing in flight, last heard from at `lastSeen`.
    init(lastSeen: Int64) { self.lastSeen = lastSeen }
}

/// A deadline in the expiry heap.
struct DeadlineEntry: Comparable {
    let deadline: Int64
    let dispatchID: UInt64

    static func < (lhs: DeadlineEntry, rhs: DeadlineEntry) -> Bool {
        (lhs.deadline, lhs.dispatchID) < (rhs.deadline, rhs.dispatchID)
    }
}
