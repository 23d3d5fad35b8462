import ZGridProtocol

/// The events of one subscription, in the broker's log order, as an `AsyncSequence`.
///
/// Taking an event acknowledges it to the broker (in batches), which is what lets the broker send
/// more: a consumer that stops reading is sent at most the subscription's window of events, then
/// receives one ``GridEventKind/lagged`` event saying what it missed once it reads again. Ending the
/// iteration (or dropping the stream) closes the subscription.
public struct EventStream: AsyncSequence, Sendable {
    /// Events.
    public typealias Element = GridEvent

    let events: AsyncThrowingStream<GridEvent, any Error>
    let state: SubscriptionState
    let id: UInt64
    let mailbox: Mailbox<ClientCommandItem>

    /// Iterates over the events.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<GridEvent, any Error>.AsyncIterator
        let state: SubscriptionState
        let id: UInt64
        let mailbox: Mailbox<ClientCommandItem>
        var sinceAck = 0

        /// The next event; nil when the subscription ended; throws ``GridError`` when it failed.
        public mutating func next() async throws -> GridEvent? {
            guard let event = try await base.next() else { return nil }
            if event.kind != .subscribed {
                state.consumed.store(event.seq, ordering: .relaxed)
                sinceAck += 1
                if sinceAck >= Swift.max(1, state.window.load(ordering: .relaxed) / 4) {
                    sinceAck = 0
                    mailbox.post(.acknowledge(id: id))
                }
            }
            return event
        }
    }

    /// Starts iterating.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: events.makeAsyncIterator(), state: state, id: id, mailbox: mailbox)
    }
}
