import Synchronization
import ZGridProtocol

/// What a subscription's consumer and the client's I/O thread share: the stream's continuation
/// and how far the consumer has read.
final class SubscriptionState: Sendable {
    /// Where the I/O thread puts events.
    let continuation: AsyncThrowingStream<GridEvent, any Error>.Continuation
    /// The request, for subscribing again after the broker forgot the subscription.
    let request: SubscribeRequest
    /// Events the consumer may take before it must acknowledge (the broker's window).
    let window: Int
    /// The seq of the last event the consumer took (0: none yet).
    let consumed = Atomic<UInt64>(0)

    init(continuation: AsyncThrowingStream<GridEvent, any Error>.Continuation, request: SubscribeRequest, window: Int) {
        self.continuation = continuation
        self.request = request
        self.window = window
    }
}
