import ZGridProtocol

/// Why a call failed. Each failure case of the grid has its own case.
public enum GridError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No worker serves the function.
    case unknownFunction(String)
    /// The call did not finish within its time limit.
    case timeout(String)
    /// The worker running the call died or was cut off before replying.
    case workerLost(String)
    /// The handler threw; the message is its error.
    case handlerError(String)
    /// The grid refused the call or job for now; with admission control, `retryAfter` says when to
    /// try again. The client has already retried up to its `busyRetries` before throwing this.
    case busy(String, retryAfter: Duration?)
    /// The request or its payload was malformed (for example a payload that did not decode).
    case malformed(String)
    /// The call was cancelled.
    case cancelled
    /// The broker or worker is shutting down.
    case shuttingDown(String)
    /// The grid failed unexpectedly.
    case `internal`(String)
    /// The broker stopped answering heartbeats, or the connection to it dropped (it may have
    /// restarted), while the call or request was in flight.
    case brokerUnreachable(String)
    /// The client was closed.
    case closed
    /// The arguments were invalid (for example a bad function name); nothing was sent.
    case invalidArgument(String)
    /// The input could not be encoded or the output could not be decoded on this side.
    case coding(String)
    /// The background job ended without a result: dead-lettered, failed or cancelled.
    case jobFailed(id: UInt64, state: String, lastError: String?)
    /// No job has this id (never submitted, or purged).
    case noSuchJob(UInt64)

    init(code: ErrorCode, message: String, retryAfterMilliseconds: UInt32? = nil) {
        switch code {
        case .unknownFunction: self = .unknownFunction(message)
        case .timeout: self = .timeout(message)
        case .workerLost: self = .workerLost(message)
        case .handlerError: self = .handlerError(message)
        case .busy: self = .busy(message, retryAfter: retryAfterMilliseconds.map { .milliseconds(Int64($0)) })
        case .malformed: self = .malformed(message)
        case .cancelled: self = .cancelled
        case .shuttingDown: self = .shuttingDown(message)
        case .internal: self = .internal(message)
        case .clientExpired: self = .brokerUnreachable(message)
        case .unknownSubscription: self = .internal(message)
        }
    }

    /// A readable explanation.
    public var description: String {
        switch self {
        case .unknownFunction(let message): "unknown function: \(message)"
        case .timeout(let message): "timeout: \(message)"
        case .workerLost(let message): "worker lost: \(message)"
        case .handlerError(let message): "handler error: \(message)"
        case .busy(let message, let retryAfter):
            "busy: \(message)"
                + (retryAfter.map { "; retry after \(GridClient.milliseconds($0)) ms" } ?? "")
        case .malformed(let message): "malformed: \(message)"
        case .cancelled: "cancelled"
        case .shuttingDown(let message): "shutting down: \(message)"
        case .internal(let message): "internal error: \(message)"
        case .brokerUnreachable(let message): "broker unreachable: \(message)"
        case .closed: "the client is closed"
        case .invalidArgument(let message): "invalid argument: \(message)"
        case .coding(let message): "coding error: \(message)"
        case .jobFailed(let id, let state, let lastError): "job \(id) is \(state)" + (lastError.map { ": \($0)" } ?? "")
        case .noSuchJob(let id): "no job \(id)"
        }
    }
}
