import DequeModule
import HeapModule

/// The deadlines of work in flight, earliest first, with entries of finished work skipped lazily
/// when they come up.
///
/// Work mostly gets the same time limit, so a new deadline is mostly no earlier than the last one:
/// such deadlines are appended to a queue kept in order, at a constant cost; only a deadline earlier
/// than the queue's last goes to a heap. The earliest entry is the earlier of the two firsts.
///
/// When stale entries make the queue more than twice as large as the `live` work (plus `slack`), it
/// is rebuilt from the live entries alone, so under a steady load it holds about as many entries as
/// work in flight, not everything of the last time-limit window.
public struct DeadlineQueue<Element: Comparable> {
    @usableFromInline var ordered = Deque<Element>()
    @usableFromInline var unordered = Heap<Element>()

    /// An empty queue.
    @inlinable
    public init() {}

    /// How many entries the queue holds, stale ones included.
    @inlinable
    public var count: Int { ordered.count + unordered.count }

    /// The earliest entry, if any.
    @inlinable
    public var min: Element? {
        guard let first = ordered.first else { return unordered.min }
        guard let other = unordered.min else { return first }
        return Swift.min(first, other)
    }

    /// Removes the earliest entry, if any.
    @inlinable
    public mutating func removeMin() {
        guard let first = ordered.first else {
            _ = unordered.popMin()
            return
        }
        if let other = unordered.min, other < first {
            _ = unordered.popMin()
        } else {
            ordered.removeFirst()
        }
    }

    /// Inserts `element`; rebuilds the queue from `live` when it then holds more than twice the
    /// `count` live entries plus `slack`.
    @inlinable
    public mutating func insert<Live: Sequence<Element>>(
        _ element: Element, live count: Int, slack: Int, rebuiltFrom live: @autoclosure () -> Live
    ) {
        if let last = ordered.last, element < last {
            unordered.insert(element)
        } else {
            ordered.append(element)
        }
        guard self.count > 2 * count + slack else { return }
        rebuild(from: live())
    }

    /// Replaces the entries with `live` alone, in storage sized for them: after a burst, the queue
    /// otherwise keeps the room of its largest size.
    public mutating func rebuild<Live: Sequence<Element>>(from live: Live) {
        ordered = Deque(live.sorted())
        unordered = Heap()
    }

    /// Removes every entry.
    @inlinable
    public mutating func removeAll() {
        ordered.removeAll()
        unordered = Heap()
    }
}
