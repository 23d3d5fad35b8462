import CZeroMQ

/// One entry of a ``Poller``: a socket or a raw file descriptor and the readiness to wait for.
public struct PollItem {
    var item: zmq_pollitem_t

    init(socket: UnsafeMutableRawPointer?, fd: Int32, readable: Bool, writable: Bool) {
        var events: Int16 = 0
        if readable { events |= Int16(ZMQ_POLLIN) }
        if writable { events |= Int16(ZMQ_POLLOUT) }
        item = zmq_pollitem_t(socket: socket, fd: fd, events: events, revents: 0)
    }

    /// An entry for a raw file descriptor such as an eventfd or a pipe.
    public static func fileDescriptor(_ fd: Int32, readable: Bool = true, writable: Bool = false) -> PollItem {
        PollItem(socket: nil, fd: fd, readable: readable, writable: writable)
    }
}

/// Waits on several sockets and file descriptors at once (`zmq_poll`).
///
/// Not `Sendable`: a poller belongs to the thread that owns its sockets.
public struct Poller {
    private var items: [zmq_pollitem_t]

    /// Creates a poller over `items`; their order is the index used by ``isReadable(_:)``.
    public init(_ items: [PollItem]) {
        self.items = items.map(\.item)
    }

    /// Waits until an item is ready or `timeoutMilliseconds` passes (-1 waits forever).
    /// Returns how many items are ready; 0 on timeout or when a signal interrupted the wait.
    @discardableResult
    public mutating func poll(timeoutMilliseconds: Int) throws(ZMQError) -> Int {
        let count = items.withUnsafeMutableBufferPointer { zmq_poll($0.baseAddress, Int32($0.count), timeoutMilliseconds) }
        if count < 0 {
            let code = czmq_errno()
            if code == EINTR { return 0 }
            throw ZMQError(code: code, operation: "zmq_poll")
        }
        return Int(count)
    }

    /// Whether item `index` was readable after the last ``poll(timeoutMilliseconds:)``.
    public func isReadable(_ index: Int) -> Bool {
        items[index].revents & Int16(ZMQ_POLLIN) != 0
    }

    /// Whether item `index` was writable after the last ``poll(timeoutMilliseconds:)``.
    public func isWritable(_ index: Int) -> Bool {
        items[index].revents & Int16(ZMQ_POLLOUT) != 0
    }
}
