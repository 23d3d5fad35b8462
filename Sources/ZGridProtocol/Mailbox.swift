import Synchronization
import ZeroMQ

/// A queue from any thread to one poll loop: ``post(_:)`` adds an item and wakes the loop,
/// the loop calls ``take(into:)`` when ``signal`` turns readable.
public final class Mailbox<Item: Sendable>: Sendable {
    /// The wake-up the poll loop waits on.
    public let signal: WakeSignal
    private let items = Mutex<[Item]>([])

    /// Creates an empty mailbox.
    public init() throws(ZMQError) {
        signal = try WakeSignal()
    }

    /// Adds an item; wakes the loop only when the mailbox was empty (later posts ride the same wake).
    /// With `wake` false it never wakes the loop: only for a post from the loop thread itself,
    /// before the point of its pass where it takes the mailbox.
    public func post(_ item: Item, wake: Bool = true) {
        let wasEmpty = items.withLock { items in
            let wasEmpty = items.isEmpty
            items.append(item)
            return wasEmpty
        }
        if wasEmpty && wake { signal.signal() }
    }

    /// Moves every waiting item into `buffer` (appending), clearing the wake-up first so no post is missed.
    public func take(into buffer: inout [Item]) {
        signal.drain()
        items.withLock { items in
            if buffer.isEmpty {
                swap(&buffer, &items)
            } else {
                buffer.append(contentsOf: items)
                items.removeAll(keepingCapacity: true)
            }
        }
    }
}
