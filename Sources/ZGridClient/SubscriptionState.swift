import Synchronization
import ZGridProtocol

/// What a subscription's consumer and the client's I/O thread share: the stream's continuation
/// and how far the consumer has read.
final class SubscriptionState: Sendable {
    /// Where the I/O thread puts events.
    let continuation: AsyncThrowingStream<GridEvent, any Error>.Continuation
    /// The request, for subscribing again after the broker forgot the subscription.
    let request: SubscribeRequest
    /// The subscription's window: the events the broker sends unacknowledged before the consumer
    /// lags. The requested one, else the client's guess until the broker's `subscribed` event
    /// says which it applies (its `[events] window`).
    let window: Atomic<Int>
    /// The seq of the last event the consumer took (0: none yet).
    let consumed = Atomic<UInt64>(0)

    init(continuation: AsyncThrowingStream<GridEvent, any Error>.Continuation, request: SubscribeRequest, window: Int) {
        self.continuation = continuation
        self.request = request
        self.window = Atomic(window)
    }
}
