import ZGridProtocol

/// The outcome handed back to a waiting call.
typealias CallContinuation = CheckedContinuation<Result<[UInt8], GridError>, Never>

/// A waiting call's continuation, boxed.
///
/// The continuation types of the concurrency library are resilient (their layout is known only at
/// run time), so an enum or struct holding one directly is copied, switched over and destroyed
/// through runtime calls. Behind a class reference, the mailbox items and the I/O thread's pending
/// entries have a layout the compiler knows.
final class CallWaiter: Sendable {
    private let continuation: CallContinuation

    init(_ continuation: CallContinuation) { self.continuation = continuation }

    /// Resumes the caller with `outcome` (once).
    func resume(_ outcome: Result<[UInt8], GridError>) { continuation.resume(returning: outcome) }
}

/// Where a scatter's parts go, boxed for the same reason as ``CallWaiter``.
final class ScatterSink: Sendable {
    /// The stream the caller iterates.
    let events: AsyncThrowingStream<ScatterEvent, any Error>.Continuation

    init(_ events: AsyncThrowingStream<ScatterEvent, any Error>.Continuation) { self.events = events }
}

/// What reaches the client's I/O thread from calling tasks.
enum ClientCommandItem: Sendable {
    /// Send a call and resume `waiter` with its outcome.
    case call(id: UInt64, function: String, header: CallHeader, payload: [UInt8], timeoutMilliseconds: Int64, waiter: CallWaiter)
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
    /// Close the connection; pending calls fail with ``GridError/closed``.
    case close
}
