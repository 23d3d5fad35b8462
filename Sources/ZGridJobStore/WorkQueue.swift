import Foundation

/// The hand-off between the callers of `JobStore` and its thread: a locked list of work items with a
/// condition variable, so the thread sleeps while there is nothing to do and callers never touch disk.
///
/// `@unchecked Sendable`: every stored property is guarded by `condition`.
final class WorkQueue: @unchecked Sendable {
    /// Guards the fields below and wakes the waiters.
    private let condition = NSCondition()
    /// The items not yet taken, in arrival order.
    private var items: [WorkItem] = []
    /// Set by `close()`: no item is accepted any more.
    private var isClosing = false
    /// Set when the thread has committed the last items and closed the database.
    private var isFinished = false

    /// Appends an item and wakes the thread; false (and nothing queued) once the queue is closing.
    func enqueue(_ item: WorkItem) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !isClosing else { return false }
        items.append(item)
        condition.signal()
        return true
    }

    /// Waits until there are items or the queue is closing, then takes every queued item.
    /// `isLast` is true when the queue is closing: no item can follow these.
    func takeAll() -> (items: [WorkItem], isLast: Bool) {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !isClosing {
            condition.wait()
        }
        let taken = items
        items.removeAll(keepingCapacity: true)
        return (taken, isClosing)
    }

    /// Refuses further items and wakes the thread so it can drain what is queued and stop.
    func close() {
        condition.lock()
        defer { condition.unlock() }
        isClosing = true
        condition.broadcast()
    }

    /// Records that the last items are done and wakes every `waitUntilFinished()`.
    func markFinished() {
        condition.lock()
        defer { condition.unlock() }
        isFinished = true
        condition.broadcast()
    }

    /// Blocks until `markFinished()`.
    func waitUntilFinished() {
        condition.lock()
        defer { condition.unlock() }
        while !isFinished {
            condition.wait()
        }
    }
}
