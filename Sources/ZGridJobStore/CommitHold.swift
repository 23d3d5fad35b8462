import Foundation
import Synchronization

/// A test hook that slows a store down as a slow disk would: while a store file's commits are
/// held, its thread waits before each commit (reads and the queueing of writes go on). Nothing
/// else holds commits.
package enum CommitHold {
    /// The paths whose commits are held.
    private static let held = Mutex<Set<String>>([])

    /// Holds the commits of the store at `path` until ``release(path:)``.
    package static func hold(path: String) {
        _ = held.withLock { $0.insert(path) }
    }

    /// Lets the store at `path` commit again.
    package static func release(path: String) {
        _ = held.withLock { $0.remove(path) }
    }

    /// Waits, on the store's thread, while the commits of the store at `path` are held.
    static func wait(path: String) {
        while held.withLock({ $0.contains(path) }) {
            Thread.sleep(forTimeInterval: 0.005)
        }
    }
}
