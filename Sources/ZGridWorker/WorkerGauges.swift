import Synchronization

/// Counters the worker's I/O thread updates and ``Worker`` reads from any thread.
final class WorkerGauges: Sendable {
    private let stuck = Atomic<Int>(0)

    /// Handlers found stuck so far.
    var stuckHandlers: Int { stuck.load(ordering: .relaxed) }

    /// Counts one more stuck handler.
    func recordStuck() { stuck.add(1, ordering: .relaxed) }
}
