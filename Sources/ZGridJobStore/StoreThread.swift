import Foundation
import ZeroMQ

/// Marks the store's own thread, so `close()` called from the `events` callback does not wait for itself.
enum StoreThread {
    /// The queue whose thread is the current one; nil on any other thread.
    @TaskLocal static var servedQueue: ObjectIdentifier?

    /// Starts the thread that takes work from `queue`, runs it with `runner` and reports through `events`
    /// until the queue is closed and drained; it then closes the database and marks the queue finished.
    static func start(queue: WorkQueue, runner: BatchRunner, events: @escaping @Sendable (StoreEvent) -> Void) {
        let thread = Thread {
            // Named from inside: on Linux, a name set before start does not reach the OS thread.
            Thread.current.name = "zgrid-store"
            nameCurrentOSThread("zgrid-store")
            $servedQueue.withValue(ObjectIdentifier(queue)) {
                drain(queue, with: runner, events: events)
            }
        }
        thread.start()
    }

    /// Runs batches from `queue` until it is closed and drained, then closes the database and marks the
    /// queue finished. Also used by `close()` when the thread was never started.
    static func drain(_ queue: WorkQueue, with runner: BatchRunner, events: (StoreEvent) -> Void) {
        while true {
            let (items, isLast) = queue.takeAll()
            runner.run(items, emit: events)
            if isLast { break }
        }
        try? runner.database.close()
        queue.markFinished()
    }

    /// Whether the current thread is the one serving `queue`.
    static func isServing(_ queue: WorkQueue) -> Bool {
        servedQueue == ObjectIdentifier(queue)
    }
}
