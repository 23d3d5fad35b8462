/// When a loop hands freed heap memory back (``MemoryTrim``): once a burst of work has ended. The
/// loop counts the work it takes (`activity`, any count that grows with each request) and calls
/// ``check(now:activity:)`` now and then, off its per-request path; the heap is trimmed when that
/// count moved before the last check and stood still since (one quiet interval after the burst),
/// at most once per interval, and never while the process stays idle or stays busy.
package struct TrimAfterBurst {
    /// The shortest time between two checks, in milliseconds.
    private let interval: Int64
    private var nextCheckAt: Int64 = 0
    /// The activity count seen at the last check.
    private var seen: UInt64 = 0
    /// Whether work came since the last trim.
    private var worked = false

    /// A schedule checking at most every `intervalMilliseconds` (by default ``defaultInterval``).
    package init(intervalMilliseconds: Int64 = TrimAfterBurst.defaultInterval) {
        interval = max(1, intervalMilliseconds)
    }

    /// The default interval, 2 s; the broker's periodic trim uses it too.
    package static let defaultInterval: Int64 = 2_000

    /// When the next check is due while a trim waits for the quiet after a burst; nil when none
    /// waits (a loop that sleeps long may wake for it).
    package var nextDue: Int64? { worked ? nextCheckAt : nil }

    /// Trims the heap if a burst of work ended: `activity` moved before the last check, not since.
    /// Returns whether it trimmed.
    @discardableResult
    package mutating func check(now: Int64, activity: UInt64) -> Bool {
        guard now >= nextCheckAt else { return false }
        nextCheckAt = now + interval
        if activity != seen {
            seen = activity
            worked = true
            return false
        }
        guard worked else { return false }
        worked = false
        MemoryTrim.release()
        return true
    }
}
