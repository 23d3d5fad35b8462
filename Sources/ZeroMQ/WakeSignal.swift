import CZeroMQ

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A wake-up signal for a poll loop: any thread calls ``signal()``; the loop polls ``pollItem``
/// and calls ``drain()`` when it turns readable. Backed by a Linux eventfd.
public final class WakeSignal: Sendable {
    /// The file descriptor the poll loop waits on.
    public let fileDescriptor: Int32

    /// Creates the signal.
    public init() throws(ZMQError) {
        let fd = czmq_eventfd()
        guard fd >= 0 else { throw ZMQError(code: errno, operation: "eventfd") }
        fileDescriptor = fd
    }

    /// Wakes the loop. Safe from any thread; several signals before a drain wake it once.
    public func signal() {
        _ = czmq_eventfd_signal(fileDescriptor)
    }

    /// Clears pending signals; call from the loop after a wake.
    public func drain() {
        _ = czmq_eventfd_drain(fileDescriptor)
    }

    /// A poll entry that turns readable when signalled.
    public var pollItem: PollItem { .fileDescriptor(fileDescriptor) }

    deinit {
        close(fileDescriptor)
    }
}
