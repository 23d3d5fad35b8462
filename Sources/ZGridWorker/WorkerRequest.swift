import ZGridProtocol

/// One function call handed to a handler.
public struct WorkerRequest: Sendable {
    /// The function called.
    public let function: String
    /// The broker's id for this dispatch (unique per broker run).
    public let id: UInt64
    /// The payload frames, as the caller sent them (an array made on each use: ``payload`` is
    /// cheaper when the caller sent one frame).
    public var frames: [[UInt8]] { payloadFrames.all }
    /// Which attempt this is: 1, or more when the broker retried an idempotent call after a worker died.
    public let attempt: Int
    /// The time left before the caller's deadline, in milliseconds.
    public let timeLimitMilliseconds: Int
    /// Whether the caller marked the call safe to run twice.
    public let isIdempotent: Bool
    /// The caller's priority, 0 to 9.
    public let priority: Int
    /// For a sharded function: the shard this request is for (one of the shards the worker holds).
    public let shard: Int?
    /// For a background job: its id (with ``attempt``, enough for a handler to be idempotent).
    public let job: UInt64?

    /// Where progress reports go (nil for requests made outside a worker, such as in tests).
    private let reporter: (@Sendable (Double, String) -> Void)?
    private let payloadFrames: Frames

    /// The payload: the single frame, or all frames joined when the caller sent several.
    public var payload: [UInt8] { payloadFrames.joined }

    /// Reports how far the handler has come: `fraction` from 0 to 1 (clamped) and a short message
    /// (at most 1 KB; longer ones are cut). For a background job the broker pushes it to event
    /// subscribers as a `progress` event. Cheap to call often: the worker sends at most one report
    /// per request every 100 ms and the broker publishes at most one per job per progress interval,
    /// the latest winning.
    public func progress(_ fraction: Double, _ message: String = "") {
        let clamped = fraction.isNaN ? 0 : min(1, max(0, fraction))
        var text = message
        if text.utf8.count > ProgressReport.maxMessageBytes {
            text = String(decoding: Array(text.utf8.prefix(ProgressReport.maxMessageBytes)), as: UTF8.self)
            while text.utf8.count > ProgressReport.maxMessageBytes { text.removeLast() }
        }
        reporter?(clamped, text)
    }

    init(
        function: String, id: UInt64, frames: Frames, header: CallHeader, reporter: (@Sendable (Double, String) -> Void)? = nil
    ) {
        self.reporter = reporter
        self.function = function
        self.id = id
        payloadFrames = frames
        attempt = Int(header.attempt)
        timeLimitMilliseconds = Int(header.timeoutMilliseconds)
        isIdempotent = header.isIdempotent
        priority = Int(header.priority)
        shard = header.shard.map(Int.init)
        job = header.job
    }
}

/// A function body: takes a request, returns the reply payload or throws.
public typealias WorkerHandler = @Sendable (WorkerRequest) async throws -> [UInt8]

/// A synchronous function body run inline on the worker's I/O thread (see
/// ``Worker/registerInline(_:shards:_:)``): takes a request, returns the reply payload or throws.
public typealias InlineHandler = @Sendable (WorkerRequest) throws -> [UInt8]

/// Where a function's handlers run.
public enum HandlerExecution: Sendable {
    /// On Swift's global concurrent executor: handlers run in parallel on all cores. The default,
    /// and the right choice for CPU-heavy or blocking work.
    case concurrent
    /// On the worker's I/O thread: no thread switch between the socket and the handler, so the
    /// lowest latency. Only for handlers that finish in microseconds or only suspend (await)
    /// without blocking: while one runs, the worker reads and sends nothing.
    case ioThread
}

/// An error a handler throws to choose the error code the caller sees; any other error reaches
/// the caller as a handler error carrying its description.
public struct HandlerFailure: Error, Sendable, CustomStringConvertible {
    /// The code the caller gets.
    public let code: ErrorCode
    /// The message the caller gets.
    public let message: String

    /// Creates a failure with a code and message.
    public init(_ code: ErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `"<code>: <message>"`.
    public var description: String { "\(code): \(message)" }
}
