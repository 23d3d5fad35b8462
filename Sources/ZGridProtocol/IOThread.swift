import Dispatch
import Foundation

/// A dedicated thread that runs a socket owner's poll loop, so Swift concurrency's shared threads
/// never block in libzmq. ``wait()`` returns once the loop body has returned.
public final class IOThread: Sendable {
    private let done = DispatchSemaphore(value: 0)

    /// Starts `body` on a new thread named `name`.
    public init(name: String, _ body: @escaping @Sendable () -> Void) {
        let done = self.done
        let thread = Thread {
            // Named from inside: on Linux, a name set before start does not reach the OS thread
            // (which then shows its creator's name in `top -H` and /proc).
            Thread.current.name = name
            body()
            done.signal()
        }
        thread.stackSize = 1 << 21
        thread.start()
    }

    /// Blocks until the loop has ended. Safe to call more than once.
    public func wait() {
        done.wait()
        done.signal()
    }

    /// Suspends until the loop has ended, without blocking a Swift concurrency thread.
    public func finished() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                self.wait()
                continuation.resume()
            }
        }
    }
}
