import Dispatch
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

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
            IOThread.nameCurrentThread(name)
            body()
            done.signal()
        }
        thread.stackSize = 1 << 21
        thread.start()
    }

    /// Names the calling thread `name` (the OS keeps the first 15 bytes), for Foundation and for
    /// the OS. Foundation's `Thread.current.name` alone does not always reach the OS thread on
    /// Linux (it applies the name only once the creating thread has recorded the new thread's
    /// handle), and `top -H` and /proc then show the creator's name; so the name is also written
    /// to /proc/thread-self/comm.
    public static func nameCurrentThread(_ name: String) {
        Thread.current.name = name
        #if os(Linux)
            let fd = open("/proc/thread-self/comm", O_WRONLY)
            guard fd >= 0 else { return }
            let bytes = Array(name.utf8.prefix(15))
            _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
        #endif
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
