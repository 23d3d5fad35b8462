import CZeroMQ

/// One ZeroMQ socket, owned by one thread at a time.
///
/// The type is non-copyable and not `Sendable`: the compiler keeps a socket with its owner. It is
/// closed when it goes out of scope, with the linger period set by ``setLinger(_:)`` (0 by default
/// here, so a close never waits on a vanished peer).
public struct Socket: ~Copyable {
    /// The context this socket came from, kept alive while the socket exists.
    public let context: Context
    let handle: UnsafeMutableRawPointer

    /// Opens a socket of `type` in `context`, with a linger period of 0.
    public init(_ context: Context, type: SocketType) throws(ZMQError) {
        guard let handle = zmq_socket(context.handle, type.rawValue) else {
            throw ZMQError.last("zmq_socket")
        }
        self.context = context
        self.handle = handle
        var zero: Int32 = 0
        zmq_setsockopt(handle, ZMQ_LINGER, &zero, MemoryLayout<Int32>.size)
    }

    deinit {
        zmq_close(handle)
    }

    /// Binds to a local endpoint such as `tcp://127.0.0.1:5555`, `tcp://*:0` or `inproc://name`.
    public func bind(_ endpoint: String) throws(ZMQError) {
        guard zmq_bind(handle, endpoint) == 0 else { throw ZMQError.last("bind \(endpoint)") }
    }

    /// Connects to a remote endpoint; libzmq reconnects by itself when the peer goes away.
    public func connect(_ endpoint: String) throws(ZMQError) {
        guard zmq_connect(handle, endpoint) == 0 else { throw ZMQError.last("connect \(endpoint)") }
    }

    /// Removes a connection made with ``connect(_:)``.
    public func disconnect(_ endpoint: String) throws(ZMQError) {
        guard zmq_disconnect(handle, endpoint) == 0 else { throw ZMQError.last("disconnect \(endpoint)") }
    }

    /// The endpoint last bound, with the real port when bound to port 0 (`ZMQ_LAST_ENDPOINT`).
    public func lastEndpoint() throws(ZMQError) -> String {
        var buffer = [CChar](repeating: 0, count: 512)
        var size = buffer.count
        guard zmq_getsockopt(handle, ZMQ_LAST_ENDPOINT, &buffer, &size) == 0 else {
            throw ZMQError.last("getsockopt ZMQ_LAST_ENDPOINT")
        }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    // MARK: Sending

    /// Sends one frame copied from `bytes`. Returns false when the socket cannot take it now
    /// (non-blocking send and EAGAIN, or no route on a ROUTER with mandatory routing).
    @discardableResult
    public func send(_ bytes: UnsafeRawBufferPointer, more: Bool = false, blocking: Bool = false) throws(ZMQError) -> Bool {
        let flags = (more ? ZMQ_SNDMORE : 0) | (blocking ? 0 : ZMQ_DONTWAIT)
        while true {
            if zmq_send(handle, bytes.baseAddress, bytes.count, flags) >= 0 { return true }
            let code = czmq_errno()
            if code == EINTR { continue }
            if code == EAGAIN || code == EHOSTUNREACH { return false }
            throw ZMQError(code: code, operation: "zmq_send")
        }
    }

    /// Sends one frame copied from a byte array.
    @discardableResult
    public func send(_ bytes: [UInt8], more: Bool = false, blocking: Bool = false) throws(ZMQError) -> Bool {
        var result: Result<Bool, ZMQError> = .success(false)
        bytes.withUnsafeBytes { raw in result = Result { () throws(ZMQError) -> Bool in try send(raw, more: more, blocking: blocking) } }
        return try result.get()
    }

    /// Sends one frame holding the UTF-8 bytes of `string`.
    @discardableResult
    public func send(_ string: String, more: Bool = false, blocking: Bool = false) throws(ZMQError) -> Bool {
        var copy = string
        var result: Result<Bool, ZMQError> = .success(false)
        copy.withUTF8 { utf8 in
            result = Result { () throws(ZMQError) -> Bool in try send(UnsafeRawBufferPointer(utf8), more: more, blocking: blocking) }
        }
        return try result.get()
    }

    /// Sends frames `range` of `message`. With `consume` the frames are handed to libzmq without a
    /// copy and left empty; otherwise libzmq shares them (`zmq_msg_copy`) and they stay usable.
    /// `more` marks the last frame of the range as followed by more frames.
    /// Returns false when the socket could not take the first frame (EAGAIN); libzmq never
    /// refuses a later frame of a message it took the first frame of.
    @discardableResult
    public func send(
        frames range: Range<Int>, of message: Multipart, consume: Bool, more: Bool = false, blocking: Bool = false
    ) throws(ZMQError) -> Bool {
        let baseFlags = blocking ? 0 : ZMQ_DONTWAIT
        var scratch = zmq_msg_t()
        if !consume { zmq_msg_init(&scratch) }
        defer { if !consume { zmq_msg_close(&scratch) } }
        for index in range {
            let isLast = index == range.upperBound - 1
            let flags = baseFlags | ((isLast && !more) ? 0 : ZMQ_SNDMORE)
            let frame = message.frame(index)
            let target: UnsafeMutablePointer<zmq_msg_t>
            if consume {
                target = frame
            } else {
                zmq_msg_copy(&scratch, frame)
                target = withUnsafeMutablePointer(to: &scratch) { $0 }
            }
            while zmq_msg_send(target, handle, flags) < 0 {
                let code = czmq_errno()
                if code == EINTR { continue }
                if (code == EAGAIN || code == EHOSTUNREACH) && index == range.lowerBound { return false }
                throw ZMQError(code: code, operation: "zmq_msg_send")
            }
        }
        return true
    }

    // MARK: Receiving

    /// Receives one whole multipart message into `message` (which is cleared first).
    /// Returns false when nothing is waiting (non-blocking) — the usual end of a read burst.
    /// Frames past `message.capacity` are read and dropped; ``Multipart/truncated`` tells.
    public func receive(into message: Multipart, blocking: Bool = false) throws(ZMQError) -> Bool {
        message.clear()
        var flags = blocking ? 0 : ZMQ_DONTWAIT
        var spill = zmq_msg_t()
        zmq_msg_init(&spill)
        defer { zmq_msg_close(&spill) }
        while true {
            let target: UnsafeMutablePointer<zmq_msg_t>
            let fits = message.count < message.capacity
            if fits {
                target = message.frame(message.count)
            } else {
                target = withUnsafeMutablePointer(to: &spill) { $0 }
            }
            if zmq_msg_recv(target, handle, flags) < 0 {
                let code = czmq_errno()
                if code == EINTR { continue }
                if code == EAGAIN && message.count == 0 && !message.truncated { return false }
                throw ZMQError(code: code, operation: "zmq_msg_recv")
            }
            let more = zmq_msg_more(target) == 1
            if fits { message.count += 1 } else { message.truncated = true }
            if !more { return true }
            flags = 0  // the rest of a multipart message is already here
        }
    }

    /// Receives one whole message and copies its frames out (for tests and slow paths).
    public func receiveFrames(blocking: Bool = true, maxFrames: Int = 256) throws(ZMQError) -> [[UInt8]]? {
        let message = Multipart(capacity: maxFrames)
        guard try receive(into: message, blocking: blocking) else { return nil }
        return (0..<message.count).map { message.bytes($0) }
    }

    /// Sends a whole multipart message from byte arrays (for tests and slow paths).
    @discardableResult
    public func send(frames: [[UInt8]], blocking: Bool = false) throws(ZMQError) -> Bool {
        for (index, frame) in frames.enumerated() {
            let sent = try send(frame, more: index < frames.count - 1, blocking: blocking)
            if !sent {
                if index == 0 { return false }
                throw ZMQError(code: EAGAIN, operation: "zmq_send (partial message)")
            }
        }
        return true
    }

    /// The readiness flags (`ZMQ_EVENTS`): whether a receive or send would succeed now.
    public func events() throws(ZMQError) -> (readable: Bool, writable: Bool) {
        var value: Int32 = 0
        var size = MemoryLayout<Int32>.size
        guard zmq_getsockopt(handle, ZMQ_EVENTS, &value, &size) == 0 else { throw ZMQError.last("getsockopt ZMQ_EVENTS") }
        return (value & Int32(ZMQ_POLLIN) != 0, value & Int32(ZMQ_POLLOUT) != 0)
    }

    /// A poll entry for this socket, for ``Poller``.
    public func pollItem(readable: Bool = true, writable: Bool = false) -> PollItem {
        PollItem(socket: handle, fd: -1, readable: readable, writable: writable)
    }

    /// A poll entry on this socket's signal descriptor (`ZMQ_FD`) alone, for a socket that is only
    /// received from, such as a monitor's: the ``Poller`` then treats it as a raw descriptor and
    /// does not ask the socket for its readiness (`ZMQ_EVENTS`, one system call) on every poll.
    /// The entry turns readable when the socket has news to process; whoever polls it must then
    /// receive until nothing is left (``receive(into:blocking:)`` returns false), and do so once
    /// before the first poll, or messages may wait unseen.
    public func drainedPollItem() throws(ZMQError) -> PollItem {
        guard let fd = signalDescriptor(of: handle) else { throw ZMQError.last("getsockopt ZMQ_FD") }
        return .fileDescriptor(fd)
    }
}

extension Socket {
    /// The endpoints bound so far; libzmq reports only the last one, so for several binds the
    /// earlier ones are returned as asked. Used after binding to port 0.
    public func boundEndpoints(_ count: Int) -> [String] {
        guard let last = try? lastEndpoint() else { return [] }
        return [last]
    }
}
