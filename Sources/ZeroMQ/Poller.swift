import CZeroMQ

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One entry of a ``Poller``: a socket or a raw file descriptor and the readiness to wait for.
public struct PollItem {
    /// The socket, or nil for a raw file descriptor.
    let socket: UnsafeMutableRawPointer?
    /// The raw file descriptor (unused for a socket).
    let fd: Int32
    /// The `ZMQ_POLLIN` / `ZMQ_POLLOUT` flags wanted.
    let events: Int16

    init(socket: UnsafeMutableRawPointer?, fd: Int32, readable: Bool, writable: Bool) {
        var events: Int16 = 0
        if readable { events |= Int16(ZMQ_POLLIN) }
        if writable { events |= Int16(ZMQ_POLLOUT) }
        self.socket = socket
        self.fd = fd
        self.events = events
    }

    /// An entry for a raw file descriptor such as an eventfd or a pipe.
    public static func fileDescriptor(_ fd: Int32, readable: Bool = true, writable: Bool = false) -> PollItem {
        PollItem(socket: nil, fd: fd, readable: readable, writable: writable)
    }
}

/// Waits on several sockets and file descriptors at once, with the semantics of `zmq_poll`:
/// a socket is readable when a message can be received, writable when one can be sent.
///
/// It asks each socket first (`ZMQ_EVENTS`) and blocks in `poll(2)` on the sockets' signal
/// descriptors (`ZMQ_FD`) and the raw descriptors only when no socket is ready, which saves
/// `zmq_poll`'s zero-timeout first pass: one system call on every wake-up.
///
/// Not `Sendable`: a poller belongs to the thread that owns its sockets.
public struct Poller {
    private let items: [PollItem]
    /// What each item was found ready for by the last poll.
    private var ready: [Int16]
    /// Every item's descriptor (a socket's `ZMQ_FD`), for the blocking wait.
    private var descriptors: [pollfd]
    /// The raw descriptors only, for a zero-timeout look when a socket is already ready.
    private var rawDescriptors: [pollfd]
    /// The index in `items` of each entry of `rawDescriptors`.
    private let rawIndices: [Int]

    /// Creates a poller over `items`; their order is the index used by ``isReadable(_:)``.
    public init(_ items: [PollItem]) {
        self.items = items
        ready = Array(repeating: 0, count: items.count)
        let descriptors = items.map { item in
            guard let socket = item.socket else { return pollfd(fd: item.fd, events: Self.pollEvents(item.events), revents: 0) }
            // A socket's signal descriptor turns readable when it has commands to process, which
            // may (or may not) make it readable or writable: ZMQ_EVENTS then says which.
            return pollfd(fd: signalDescriptor(of: socket) ?? -1, events: Int16(POLLIN), revents: 0)
        }
        let rawIndices = items.indices.filter { items[$0].socket == nil }
        self.descriptors = descriptors
        self.rawIndices = rawIndices
        rawDescriptors = rawIndices.map { descriptors[$0] }
    }

    /// Waits until an item is ready or `timeoutMilliseconds` passes (-1 waits forever).
    /// Returns how many items are ready; 0 on timeout or when a signal interrupted the wait.
    @discardableResult
    public mutating func poll(timeoutMilliseconds: Int) throws(ZMQError) -> Int {
        let start = timeoutMilliseconds > 0 ? Self.nowMilliseconds() : 0
        var remaining = timeoutMilliseconds
        // Whether `ready` holds the raw descriptors' state from a poll(2) of this call.
        var rawKnown = false
        for index in rawIndices { ready[index] = 0 }
        while true {
            var count = try checkSockets()
            if count > 0 && !rawKnown {
                count += try pollRawDescriptors()
                return count
            }
            count += rawKnown ? rawIndices.count(where: { ready[$0] != 0 }) : 0
            if count > 0 || (rawKnown && remaining == 0) { return count }
            guard try Self.wait(&descriptors, timeout: remaining) else { return 0 }
            rawKnown = true
            var socketSignalled = false
            for index in items.indices {
                let revents = descriptors[index].revents
                if items[index].socket == nil {
                    ready[index] = Self.zmqEvents(revents) & items[index].events
                } else if revents != 0 {
                    socketSignalled = true
                }
            }
            // No socket was ready before the wait and none was signalled during it: only raw
            // descriptors (or the timeout) ended it.
            guard socketSignalled else { return rawIndices.count(where: { ready[$0] != 0 }) }
            // A socket's signal only says it has commands: ZMQ_EVENTS (on the next turn) tells
            // whether that made it ready; if not, wait again for what is left of the timeout.
            if timeoutMilliseconds > 0 {
                remaining = max(0, timeoutMilliseconds - Int(Self.nowMilliseconds() - start))
            }
        }
    }

    /// Whether item `index` was readable after the last ``poll(timeoutMilliseconds:)``.
    public func isReadable(_ index: Int) -> Bool {
        ready[index] & Int16(ZMQ_POLLIN) != 0
    }

    /// Whether item `index` was writable after the last ``poll(timeoutMilliseconds:)``.
    public func isWritable(_ index: Int) -> Bool {
        ready[index] & Int16(ZMQ_POLLOUT) != 0
    }

    /// Asks every socket for its readiness (`ZMQ_EVENTS`); returns how many are ready.
    private mutating func checkSockets() throws(ZMQError) -> Int {
        var count = 0
        for index in items.indices {
            guard let socket = items[index].socket else { continue }
            var value: Int32 = 0
            var size = MemoryLayout<Int32>.size
            guard zmq_getsockopt(socket, ZMQ_EVENTS, &value, &size) == 0 else { throw ZMQError.last("getsockopt ZMQ_EVENTS") }
            ready[index] = Int16(truncatingIfNeeded: value) & items[index].events
            if ready[index] != 0 { count += 1 }
        }
        return count
    }

    /// Looks at the raw descriptors without waiting; returns how many are ready.
    private mutating func pollRawDescriptors() throws(ZMQError) -> Int {
        guard !rawDescriptors.isEmpty, try Self.wait(&rawDescriptors, timeout: 0) else { return 0 }
        var count = 0
        for (position, index) in rawIndices.enumerated() {
            ready[index] = Self.zmqEvents(rawDescriptors[position].revents) & items[index].events
            if ready[index] != 0 { count += 1 }
        }
        return count
    }

    /// Waits in `poll(2)` on `descriptors` up to `timeout` milliseconds; false when a signal
    /// interrupted the wait (nothing is then known to be ready).
    private static func wait(_ descriptors: inout [pollfd], timeout: Int) throws(ZMQError) -> Bool {
        let result = descriptors.withUnsafeMutableBufferPointer { systemPoll($0, timeout: timeout) }
        guard result < 0 else { return true }
        let code = errno
        if code == EINTR { return false }
        throw ZMQError(code: code, operation: "poll")
    }

    /// `poll(2)` flags for the wanted ZeroMQ flags.
    private static func pollEvents(_ events: Int16) -> Int16 {
        (events & Int16(ZMQ_POLLIN) != 0 ? Int16(POLLIN) : 0) | (events & Int16(ZMQ_POLLOUT) != 0 ? Int16(POLLOUT) : 0)
    }

    /// ZeroMQ flags for what `poll(2)` reported; an error or hang-up counts as ready, as in `zmq_poll`.
    private static func zmqEvents(_ revents: Int16) -> Int16 {
        var events: Int16 = 0
        if revents & Int16(POLLIN | POLLERR | POLLHUP) != 0 { events |= Int16(ZMQ_POLLIN) }
        if revents & Int16(POLLOUT | POLLERR | POLLHUP) != 0 { events |= Int16(ZMQ_POLLOUT) }
        return events
    }

    private static func nowMilliseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }
}

/// A socket's signal descriptor (`ZMQ_FD`), or nil if the socket cannot say (a poll entry on -1
/// is never ready).
func signalDescriptor(of socket: UnsafeMutableRawPointer) -> Int32? {
    var fd: Int32 = -1
    var size = MemoryLayout<Int32>.size
    guard zmq_getsockopt(socket, ZMQ_FD, &fd, &size) == 0 else { return nil }
    return fd
}

/// `poll(2)` over `descriptors`, waiting up to `timeout` milliseconds (-1: forever).
private func systemPoll(_ descriptors: UnsafeMutableBufferPointer<pollfd>, timeout: Int) -> Int32 {
    poll(descriptors.baseAddress, nfds_t(descriptors.count), Int32(clamping: timeout))
}
