/// Counters kept by the core, for status output and tests.
public struct BrokerStatistics: Sendable, Equatable {
    /// CALL messages accepted.
    public var callsReceived = 0
    /// Calls answered with REPLY (scatter parts not included: see ``partsSucceeded``).
    public var callsSucceeded = 0
    /// Calls answered with ERROR.
    public var callsFailed = 0
    /// Parts of scatters that succeeded.
    public var partsSucceeded = 0
    /// Parts of scatters that failed.
    public var partsFailed = 0
    /// Scatters refused whole: past the client's limit, or a broadcast no worker could take.
    public var scattersFailed = 0
    /// SCATTER messages accepted.
    public var scattersReceived = 0
    /// Jobs accepted (durable).
    public var jobsAccepted = 0
    /// Jobs that succeeded.
    public var jobsSucceeded = 0
    /// Job attempts that failed and were scheduled again.
    public var jobsRetried = 0
    /// Jobs dead-lettered after their last attempt failed.
    public var jobsDead = 0
    /// Jobs cancelled.
    public var jobsCancelled = 0
    /// Calls retried on another worker after their worker was lost.
    public var callsRetried = 0
    /// Calls cancelled by their client.
    public var callsCancelled = 0
    /// Malformed messages dropped.
    public var malformedMessages = 0
    /// Batch REQUESTs sent (each runs several jobs).
    public var batchesDispatched = 0
    /// Jobs parked as deferred by load shedding.
    public var jobsDeferred = 0
    /// Deferred jobs queued again by the sweep.
    public var jobsSwept = 0
    /// Calls and jobs refused BUSY by admission control (with a retry-after time).
    public var admissionRefusals = 0
    /// Queued jobs cancelled because a later job had the same replace key.
    public var jobsSuperseded = 0
    /// Missed schedule slots that made no job of their own: coalesced into the job of a later
    /// slot (`catch_up = "latest"`).
    public var scheduleSlotsCoalesced = 0
    /// Progress events published.
    public var progressPublished = 0
    /// Progress reports replaced by a later one before being published.
    public var progressCoalesced = 0
    /// Well-formed messages dropped because they broke the protocol (READY twice, a duplicate
    /// request id, an answer for a request the worker was not running…).
    public var protocolViolations = 0
    /// Messages from workers the broker does not know (not registered, or dropped as silent),
    /// answered DISCONNECT so that they register again: normal after a broker restart or a
    /// worker's long pause, until the workers register again, so not counted as protocol violations.
    public var unknownWorkerMessages = 0
    /// Workers that registered (READY accepted).
    public var workersJoined = 0
    /// Workers that went silent and were dropped.
    public var workersLost = 0
    /// READYs refused (answered DISCONNECT with a reason): a sharded function announced with a
    /// shard total other than the one its registered workers hold.
    public var workersRefused = 0

    /// Creates zeroed counters.
    public init() {}
}
