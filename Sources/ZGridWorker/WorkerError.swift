import ZGridProtocol

/// Why a worker could not run, or stopped serving.
public enum WorkerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No function was registered before ``Worker/run()``.
    case nothingRegistered
    /// A function name is not valid on the wire.
    case invalidFunctionName(String)
    /// A function name was registered twice (a worker serves each name with one handler).
    case duplicateFunction(String)
    /// More functions were registered than one READY message can carry.
    case tooManyFunctions(Int, limit: Int)
    /// ``Worker/run()`` was called while it ran, or after it returned: a worker runs once.
    case alreadyRunning
    /// libzmq failed while setting up.
    case setupFailed(String)
    /// A batch function's limits are out of range: at most 1 to ``ZGridProtocol/BatchItems/maxItems``
    /// items, a wait of 0 to 60,000 ms.
    case invalidBatchLimits(String, maxItems: Int, maxWaitMilliseconds: Int)
    /// Every slot is held by a handler that ignored its cancellation for the grace period: the
    /// worker stopped serving (it sent DISCONNECT) and its process should be restarted.
    case allSlotsStuck(Int)
    /// The worker's CURVE settings are wrong in a way seen before connecting (see
    /// ``ZGridProtocol/PeerSecurity/mistake(role:keysSetting:)``): the broker would refuse or fail
    /// every handshake.
    case invalidSecurity(String)

    /// A readable explanation.
    public var description: String {
        switch self {
        case .nothingRegistered: "no function registered: call register(_:_:) before run()"
        case .invalidFunctionName(let name): FunctionName.invalidMessage(name)
        case .duplicateFunction(let name):
            "'\(name)' was registered twice: a worker serves each function with one handler, so register it once"
        case .tooManyFunctions(let count, let limit):
            "\(count) functions registered; one worker serves at most \(limit): split them over several workers"
        case .alreadyRunning: "the worker is running or has run: a Worker runs once, make a new one to serve again"
        case .setupFailed(let reason): "cannot start the worker: \(reason)"
        case .invalidBatchLimits(let name, let maxItems, let maxWait):
            "invalid batch limits for '\(name)': \(maxItems) items, \(maxWait) ms; use 1 to \(BatchItems.maxItems) items and 0 to 60000 ms"
        case .allSlotsStuck(let count):
            "all \(count) slots are held by handlers that ignore cancellation past the grace period; the worker must be restarted"
        case .invalidSecurity(let reason): "cannot start the worker: \(reason)"
        }
    }
}
