import Dispatch
import Foundation
import ZeroMQ

/// A dedicated thread that runs a socket owner's poll loop, so Swift concurrency's shared threads
/// never block in libzmq. ``wait()`` returns once the loop body has returned.
public final class IOThread: Sendable {
    private let done = DispatchSemaphore(value: 0)

    /// Starts `body` on a new thread named `name`. What `body` captures is released on that thread
    /// before the loop counts as ended: a libzmq context it held alone is terminated there, which
    /// waits for its sockets' last messages (their linger), before ``wait()`` returns and the
    /// process perhaps exits.
    public init(name: String, _ body: @escaping @Sendable () -> Void) {
        let done = self.done
        let held = HeldBody(body)
        let thread = Thread {
            // Named from inside: on Linux, a name set before start does not reach the OS thread
            // (which then shows its creator's name in `top -H` and /proc).
            IOThread.nameCurrentThread(name)
            held.runAndRelease()
            done.signal()
        }
        thread.stackSize = 1 << 21
        thread.start()
    }

    /// Names the calling thread `name` (the OS keeps the first 15 bytes), for Foundation and for
    /// the OS: Foundation's `Thread.current.name` alone does not always reach the OS thread on
    /// Linux, so the name is also set with ZeroMQ's ``ZeroMQ/nameCurrentOSThread(_:)``.
    public static func nameCurrentThread(_ name: String) {
        Thread.current.name = name
        nameCurrentOSThread(name)
    }

    /// Blocks until the loop has ended. Safe to call more than once.
    public func wait() {
        done.wait()
        done.signal()
    }

    /// Suspends until the loop has ended, without blocking a Swift concurrency thread or a shared
    /// Dispatch one (see ``waitOffThePool(_:)``).
    public func finished() async {
        await waitOffThePool { self.wait() }
    }
}

/// A thread's body, released as soon as it has run (the thread itself keeps its closure, and so
/// this box, until it ends).
private final class HeldBody: @unchecked Sendable {
    // @unchecked: `body` is read and cleared once, by the thread that runs it.
    private var body: (@Sendable () -> Void)?

    init(_ body: @escaping @Sendable () -> Void) { self.body = body }

    /// Runs the body, then releases it and what it captured.
    func runAndRelease() {
        let body = self.body
        self.body = nil
        body?()
    }
}
