/// Why a worker could not run.
public enum WorkerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No function was registered before ``Worker/run()``.
    case nothingRegistered
    /// A function name is not valid on the wire.
    case invalidFunctionName(String)
    /// More functions were registered than one READY message can carry.
    case tooManyFunctions(Int, limit: Int)
    /// ``Worker/run()`` was called twice.
    case alreadyRunning
    /// libzmq failed while setting up.
    case setupFailed(String)

    /// A readable explanation.
    public var description: String {
        switch self {
        case .nothingRegistered: "no function registered: call register(_:_:) before run()"
        case .invalidFunctionName(let name):
            "invalid function name '\(name)': use 1 to 255 characters of A-Z a-z 0-9 . _ -"
        case .tooManyFunctions(let count, let limit):
            "\(count) functions registered; one worker serves at most \(limit): split them over several workers"
        case .alreadyRunning: "the worker is already running"
        case .setupFailed(let reason): "cannot start the worker: \(reason)"
        }
    }
}
