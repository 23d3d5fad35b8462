/// The first frame of every ZGrid message after the routing envelope: who speaks and which version.
public enum ProtocolTag {
    /// Messages between a client and the broker, version 1.
    public static let client: [UInt8] = Array("ZGC01".utf8)
    /// Messages between a worker and the broker, version 1.
    public static let worker: [UInt8] = Array("ZGW01".utf8)
}

/// Commands exchanged between a client and the broker (one byte, third frame).
public enum ClientCommand: UInt8, Sendable, CaseIterable {
    /// Client → broker: call a function.
    case call = 0x01
    /// Client → broker: forget a call the client no longer waits for.
    case cancel = 0x02
    /// Broker → client: the successful result of a call.
    case reply = 0x03
    /// Broker → client: a call failed, with an ``ErrorCode`` and a message.
    case error = 0x04
    /// Both ways: liveness.
    case heartbeat = 0x05
    /// Client → broker: run one query on every shard (or worker), or one input per part, and gather.
    case scatter = 0x06
    /// Broker → client: the result of one part of a scatter.
    case part = 0x07
    /// Broker → client: a scatter is over; no more parts follow.
    case done = 0x08
    /// Client → broker: queue a durable background job.
    case submit = 0x09
    /// Broker → client: the job is durable; carries its id.
    case accepted = 0x0A
    /// Client → broker: a job query or command (status, wait, cancel, retry) on one job id.
    case job = 0x0B
    /// Client → broker: list or purge jobs matching a JSON filter.
    case jobs = 0x0C
    /// Broker → client: the JSON answer to JOB or JOBS.
    case jobReply = 0x0D
    /// Client → broker: an operator command (status, drain).
    case admin = 0x0E
    /// Broker → client: the JSON answer to ADMIN.
    case adminReply = 0x0F
    /// Client → broker: open an event subscription (JSON ``SubscribeRequest``); CANCEL closes it.
    case subscribe = 0x10
    /// Broker → client: events of a subscription, one JSON ``GridEvent`` per frame, in log order.
    case event = 0x11
    /// Client → broker: the subscription's consumer has taken every event up to a seq; also a keepalive.
    case eventAck = 0x12
    /// Client → broker: queue a durable background job, with a JSON ``JobKeys`` frame in place of
    /// SUBMIT's unique key.
    case enqueue = 0x13
    /// Broker → client: several parts of one scatter, each a part header frame and one body frame.
    case parts = 0x14
    /// Client → broker: several calls in one message: a request table (``BatchedRequest``), then one
    /// payload frame per call.
    case calls = 0x15
    /// Broker → client (one that sent CALLS): several results: their request ids in one frame, then
    /// one payload frame per result.
    case replies = 0x16
}

/// What an ADMIN command asks (one byte).
public enum AdminVerb: UInt8, Sendable, CaseIterable {
    /// The broker's status report.
    case status = 1
    /// Stop sending new work to the worker named in the argument frame (its id in hexadecimal).
    case drain = 2
}

/// What a JOB command asks about one job (one byte).
public enum JobVerb: UInt8, Sendable, CaseIterable {
    /// The job's current record.
    case status = 1
    /// Wait until the job has finished (or the wait's time limit passes), then its record.
    case wait = 2
    /// Cancel the job: a queued job is removed, a running one has its handler cancelled.
    case cancel = 3
    /// Queue a dead, failed or cancelled job again with fresh attempts.
    case retry = 4
}

/// What a JOBS command does with the jobs its filter matches (one byte).
public enum JobsVerb: UInt8, Sendable, CaseIterable {
    /// Return them.
    case list = 1
    /// Delete finished ones; returns how many.
    case purge = 2
}

/// Commands exchanged between a worker and the broker (one byte, third frame).
public enum WorkerCommand: UInt8, Sendable, CaseIterable {
    /// Worker → broker: the functions served and the concurrency offered.
    case ready = 0x01
    /// Broker → worker: run a function.
    case request = 0x02
    /// Worker → broker: a request's result.
    case reply = 0x03
    /// Worker → broker: a request failed.
    case error = 0x04
    /// Both ways: liveness.
    case heartbeat = 0x05
    /// Worker → broker: stop sending work, in-flight requests finish. Broker → worker: register again.
    case disconnect = 0x06
    /// Broker → worker: stop a running request (the caller went away or its deadline passed).
    case cancel = 0x07
    /// Worker → broker: how far a running request has come (fraction and message).
    case progress = 0x08
    /// Broker → worker (one that announced ``WorkerCapabilities/batched``): several requests in one
    /// message: a request table (``BatchedRequest``), then one payload frame per request.
    case requests = 0x09
    /// Worker → broker: several results in one message: their dispatch ids in one frame, then one
    /// payload frame per result.
    case replies = 0x0A
}

/// What a worker announces it can do, in READY's concurrency frame (a u32 after the concurrency).
public struct WorkerCapabilities: OptionSet, Sendable, Hashable {
    /// The capability bits.
    public let rawValue: UInt32

    /// Capabilities from their bits.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// The worker takes REQUESTS (several requests in one message) and may answer with REPLIES.
    public static let batched = WorkerCapabilities(rawValue: 1)
    /// READY resumes an earlier session of the worker: its frames 3 and 4 are the resume frames
    /// (see ``SessionResume``), and the service descriptors follow them. Sent only to a broker
    /// that announced ``WorkerHeartbeat/resumes``.
    public static let resuming = WorkerCapabilities(rawValue: 2)
}

/// Why a call failed, as carried in ERROR messages (two bytes, big-endian).
public enum ErrorCode: UInt16, Sendable, CaseIterable, CustomStringConvertible {
    /// No worker serves the function (none registered within the grace period).
    case unknownFunction = 1
    /// The call's deadline passed.
    case timeout = 2
    /// The worker running the call died or disconnected before replying.
    case workerLost = 3
    /// The handler threw; the message is the handler's error.
    case handlerError = 4
    /// The broker refused the call for now; try again later.
    case busy = 5
    /// The request was malformed.
    case malformed = 6
    /// The call was cancelled.
    case cancelled = 7
    /// The broker or worker is shutting down.
    case shuttingDown = 8
    /// An unexpected failure inside the grid.
    case `internal` = 9
    /// The broker heard nothing from the client for its liveness period and dropped the call.
    case clientExpired = 10
    /// The broker does not know the event subscription (it restarted or expired it): subscribe again.
    case unknownSubscription = 11

    /// A short lower-case name, as used in logs and on the command line.
    public var description: String {
        switch self {
        case .unknownFunction: "unknown function"
        case .timeout: "timeout"
        case .workerLost: "worker lost"
        case .handlerError: "handler error"
        case .busy: "busy"
        case .malformed: "malformed"
        case .cancelled: "cancelled"
        case .shuttingDown: "shutting down"
        case .internal: "internal error"
        case .clientExpired: "client expired"
        case .unknownSubscription: "unknown subscription"
        }
    }

    /// The message of TIMEOUT for a call of `function` whose deadline passed: the broker's words,
    /// which a client that times the call out itself repeats.
    public static func timeoutMessage(function: String) -> String {
        "'\(function)' did not finish within its time limit"
    }
}
