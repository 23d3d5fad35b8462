import Synchronization
import ZeroMQ

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A queue from any thread to one poll loop: ``post(_:)`` adds an item and wakes the loop,
/// the loop calls ``take(into:signalled:)`` on every pass.
///
/// Once the loop has called ``adoptCurrentThread()``, posts from the loop thread itself wake
/// nothing: the loop must then check ``hasItems`` before it blocks.
public final class Mailbox<Item: Sendable>: Sendable {
    /// The wake-up the poll loop waits on.
    public let signal: WakeSignal
    @usableFromInline let state = Mutex(State())
    /// The loop thread, once it adopted this mailbox; 0 before.
    @usableFromInline let owner = Atomic<UInt>(0)
    /// Set by a post that signals, cleared by the take that clears the signal.
    @usableFromInline let signalPending = Atomic<Bool>(false)

    /// Creates an empty mailbox.
    public init() throws(ZMQError) {
        signal = try WakeSignal()
    }

    /// Makes the calling thread the mailbox's loop thread: its own posts no longer wake it.
    public func adoptCurrentThread() {
        owner.store(Self.currentThread, ordering: .relaxed)
    }

    /// Whether the calling thread is the loop thread that adopted this mailbox.
    @inlinable public var isLoopThread: Bool {
        let owner = owner.load(ordering: .relaxed)
        return owner != 0 && owner == Self.currentThread
    }

    /// What the lock guards.
    @usableFromInline struct State: ~Copyable {
        @usableFromInline var items: [Item] = []
        /// Whether the loop thread is in ``awaitItems(nanoseconds:)``, watching for posts itself.
        @usableFromInline var loopWatching = false
        /// Set by ``close(rejectingWith:)``: what handles items posted after the loop ended.
        @usableFromInline var rejection: (@Sendable (Item) -> Void)?

        @usableFromInline init() {}
    }

    /// Whether items wait to be taken.
    @inlinable public var hasItems: Bool { state.withLock { !$0.items.isEmpty } }

    /// Waits up to `nanoseconds` for an item, giving the CPU to other threads meanwhile
    /// (`sched_yield`), instead of blocking; returns whether items wait. For a loop that expects a
    /// post within microseconds: catching it this way saves the loop a sleep and a wake-up, which
    /// on a busy machine cost more than the wait. A post seen this way skips the wake-up signal.
    public func awaitItems(nanoseconds: UInt64) -> Bool {
        let until = MonotonicClock.nowNanoseconds() + nanoseconds
        state.withLock { $0.loopWatching = true }
        while !hasItems && MonotonicClock.nowNanoseconds() < until { sched_yield() }
        // Under the lock, so a post either lands before (and is seen here) or after (and signals).
        return state.withLock { state in
            state.loopWatching = false
            return !state.items.isEmpty
        }
    }

    /// Adds an item; wakes the loop only when the mailbox was empty (later posts ride the same
    /// wake), the poster is not the loop thread (which checks ``hasItems`` before blocking) and the
    /// loop is not watching for posts in ``awaitItems(nanoseconds:)``.
    @inlinable public func post(_ item: Item) {
        let (needsWake, rejection) = state.withLock { state -> (Bool, (@Sendable (Item) -> Void)?) in
            if let rejection = state.rejection { return (false, rejection) }
            let needsWake = state.items.isEmpty && !state.loopWatching
            state.items.append(item)
            return (needsWake, nil)
        }
        if let rejection {
            rejection(item)
            return
        }
        if needsWake && !isLoopThread {
            signalPending.store(true, ordering: .releasing)
            signal.signal()
        }
    }

    /// Moves every waiting item into `buffer` (appending). `signalled` says whether the loop's
    /// poll found ``signal`` readable. The wake-up is cleared before taking, so a post that lands
    /// after the take wakes the loop again; when no post signalled since the last take and the
    /// poll saw no signal, nothing is cleared (and no system call made).
    @inlinable public func take(into buffer: inout [Item], signalled: Bool) {
        if signalPending.exchange(false, ordering: .acquiringAndReleasing) || signalled { signal.drain() }
        state.withLock { state in
            if buffer.isEmpty {
                swap(&buffer, &state.items)
            } else {
                buffer.append(contentsOf: state.items)
                state.items.removeAll(keepingCapacity: true)
            }
        }
    }

    /// Ends the mailbox, for a loop that has stopped: returns the items still waiting, and from now
    /// on hands each posted item to `rejection` on the posting thread, so that no poster waits for
    /// a loop that is gone.
    public func close(rejectingWith rejection: @escaping @Sendable (Item) -> Void) -> [Item] {
        state.withLock { state in
            state.rejection = rejection
            defer { state.items.removeAll() }
            return state.items
        }
    }

    @usableFromInline static var currentThread: UInt {
        #if canImport(Darwin)
            UInt(bitPattern: pthread_self())
        #else
            UInt(pthread_self())
        #endif
    }
}
