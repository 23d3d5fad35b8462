import ZGridProtocol

/// The outcome handed back to a waiting call.
///
/// Checked in debug builds (the tests), so that a caller resumed twice or never is reported;
/// unchecked in release builds, where the check costs an allocation and atomic operations per call.
/// The I/O thread resumes each waiter exactly once: it takes the waiter out of its pending table
/// (or the mailbox item) before resuming it.
#if DEBUG
    typealias CallContinuation = CheckedContinuation<Result<[UInt8], GridError>, Never>
#else
    typealias CallContinuation = UnsafeContinuation<Result<[UInt8], GridError>, Never>
#endif

/// Suspends the calling task until the continuation `body` is given is resumed.
func withCallContinuation(_ body: (CallContinuation) -> Void) async -> Result<[UInt8], GridError> {
    #if DEBUG
        await withCheckedContinuation(body)
    #else
        await withUnsafeContinuation(body)
    #endif
}

/// A waiting call's continuation, boxed.
///
/// The continuation types of the concurrency library are resilient (their layout is known only at
/// run time), so an enum or struct holding one directly is copied, switched over and destroyed
/// through runtime calls. Behind a class reference, the mailbox items and the I/O thread's pending
/// entries have a layout the compiler knows.
class CallWaiter: @unchecked Sendable {
    private let continuation: CallContinuation

    init(_ continuation: CallContinuation) { self.continuation = continuation }

    /// Resumes the caller with `outcome` (once).
    final func resume(_ outcome: Result<[UInt8], GridError>) { continuation.resume(returning: outcome) }
}

/// A call on its way to the broker, with its waiting caller: one object, so that handing it from
/// the calling task to the I/O thread, and on to the pending table, retains one reference.
///
/// The calling task fills it in and posts it; from then on only the I/O thread touches it, which
/// empties ``payload`` once the CALL is sent, unless the call is idempotent (the mailbox's lock
/// orders the two).
final class CallRequest: CallWaiter, @unchecked Sendable {
    let id: UInt64
    let function: String
    let header: CallHeader
    let timeoutMilliseconds: Int64
    /// The payload, until the CALL carrying it is sent; an idempotent call's until its answer, to
    /// send it again after a lost connection.
    var payload: [UInt8]

    init(
        id: UInt64, function: String, header: CallHeader, payload: [UInt8], timeoutMilliseconds: Int64,
        continuation: CallContinuation
    ) {
        self.id = id
        self.function = function
        self.header = header
        self.payload = payload
        self.timeoutMilliseconds = timeoutMilliseconds
        super.init(continuation)
    }
}

/// Where a scatter's parts go, boxed for the same reason as ``CallWaiter``.
final class ScatterSink: Sendable {
    /// The stream the caller iterates.
    let events: AsyncThrowingStream<ScatterEvent, any Error>.Continuation

    init(_ events: AsyncThrowingStream<ScatterEvent, any Error>.Continuation) { self.events = events }
}

/// What reaches the client's I/O thread from calling tasks.
enum ClientCommandItem: Sendable {
    /// Send a call and resume its caller with its outcome.
    case call(CallRequest)
    /// Send a scatter and deliver its parts to `events`.
    case scatter(
        id: UInt64, function: String, header: CallHeader, spec: ScatterSpec, frames: [[UInt8]], timeoutMilliseconds: Int64,
        events: ScatterSink)
    /// Send `command` with `frames` after the request id; the reply's bytes resume `waiter`.
    case request(id: UInt64, command: ClientCommand, frames: [[UInt8]], timeoutMilliseconds: Int64, waiter: CallWaiter)
    /// Open an event subscription; its events go to `subscription`'s stream.
    case subscribe(id: UInt64, request: SubscribeRequest, subscription: SubscriptionState)
    /// The consumer of subscription `id` has taken events: acknowledge them now.
    case acknowledge(id: UInt64)
    /// The caller's task was cancelled, or a subscription's consumer stopped.
    case cancel(id: UInt64)
    /// Start a run of calls, one per input (see ``GridClient/callEach(_:_:inFlight:timeout:idempotent:priority:)``).
    case pipeline(PipelineRun)
    /// A run's consumer took outcomes the I/O thread was waiting for it to take.
    case resume
    /// Close the connection; pending calls fail with ``GridError/closed``.
    case close

    /// The id of the request a scatter or other request item makes; nil for the other items.
    var requestID: UInt64? {
        switch self {
        case .request(let id, _, _, _, _), .scatter(let id, _, _, _, _, _, _): id
        default: nil
        }
    }
}
