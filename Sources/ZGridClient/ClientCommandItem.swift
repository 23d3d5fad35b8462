import ZGridProtocol

/// The outcome handed back to a waiting call.
typealias CallContinuation = CheckedContinuation<Result<[UInt8], GridError>, Never>

/// What reaches the client's I/O thread from calling tasks.
enum ClientCommandItem: Sendable {
    /// Send a call and resume `continuation` with its outcome.
    case call(
        id: UInt64, function: String, header: CallHeader, payload: [UInt8], timeoutMilliseconds: Int64, continuation: CallContinuation)
    /// Send a scatter and deliver its parts to `events`.
    case scatter(
        id: UInt64, function: String, header: CallHeader, spec: ScatterSpec, frames: [[UInt8]], timeoutMilliseconds: Int64,
        events: AsyncThrowingStream<ScatterEvent, any Error>.Continuation)
    /// Send `command` with `frames` after the request id; the reply's bytes resume `continuation`.
    case request(id: UInt64, command: ClientCommand, frames: [[UInt8]], timeoutMilliseconds: Int64, continuation: CallContinuation)
    /// Open an event subscription; its events go to `subscription`'s stream.
    case subscribe(id: UInt64, request: SubscribeRequest, subscription: SubscriptionState)
    /// The consumer of subscription `id` has taken events: acknowledge them now.
    case acknowledge(id: UInt64)
    /// The caller's task was cancelled, or a subscription's consumer stopped.
    case cancel(id: UInt64)
    /// Close the connection; pending calls fail with ``GridError/closed``.
    case close
}
