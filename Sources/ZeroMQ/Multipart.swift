import CZeroMQ

/// A reusable buffer of `zmq_msg_t` frames on the heap, holding one multipart message.
///
/// Frames are received straight into it and can be sent on without a copy. Small frames (33 bytes or
/// less) live inside `zmq_msg_t` itself, which is why the frames are kept on the heap: their address
/// never moves. Not `Sendable`: a buffer belongs to the thread that owns the socket.
public final class Multipart {
    /// How many frames the buffer holds at most.
    public let capacity: Int
    /// How many frames the last receive stored.
    ///
    /// Only the owning thread touches a buffer, and no access overlaps another, so the fields skip
    /// the runtime's exclusivity checks (several per message on the broker's hot path otherwise).
    @exclusivity(unchecked) public internal(set) var count: Int = 0
    /// Whether the last receive had more frames than ``capacity`` (the rest were dropped).
    @exclusivity(unchecked) public internal(set) var truncated = false
    @usableFromInline let frames: UnsafeMutablePointer<zmq_msg_t>

    /// Creates an empty buffer for up to `capacity` frames.
    public init(capacity: Int) {
        precondition(capacity > 0, "a multipart buffer needs room for at least one frame")
        self.capacity = capacity
        frames = .allocate(capacity: capacity)
        for index in 0..<capacity { zmq_msg_init(frames + index) }
    }

    deinit {
        for index in 0..<capacity { zmq_msg_close(frames + index) }
        frames.deallocate()
    }

    /// Releases every frame's data and empties the buffer.
    public func clear() {
        for index in 0..<count {
            zmq_msg_close(frames + index)
            zmq_msg_init(frames + index)
        }
        count = 0
        truncated = false
    }

    @usableFromInline
    func frame(_ index: Int) -> UnsafeMutablePointer<zmq_msg_t> {
        precondition(index >= 0 && index < capacity, "frame index \(index) out of range")
        return frames + index
    }

    /// The size in bytes of frame `index`.
    public func size(_ index: Int) -> Int {
        zmq_msg_size(frame(index))
    }

    /// Calls `body` with the bytes of frame `index`; the pointer is valid only inside `body`.
    @inlinable
    public func withBytes<R, E: Error>(_ index: Int, _ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        let msg = frame(index)
        return try body(UnsafeRawBufferPointer(start: zmq_msg_data(msg), count: zmq_msg_size(msg)))
    }

    /// A copy of the bytes of frame `index`.
    public func bytes(_ index: Int) -> [UInt8] {
        withBytes(index) { Array($0) }
    }

    /// Appends a frame holding a copy of `bytes` (for building messages to send).
    public func append(_ bytes: [UInt8]) {
        precondition(count < capacity, "multipart buffer full")
        let msg = frames + count
        zmq_msg_close(msg)
        zmq_msg_init_size(msg, bytes.count)
        if !bytes.isEmpty {
            bytes.withUnsafeBytes { zmq_msg_data(msg)!.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        }
        count += 1
    }

    /// Moves frames `range` of `source` to the end of this buffer, leaving them empty in `source`.
    public func take(frames range: Range<Int>, from source: Multipart) {
        for index in range {
            precondition(count < capacity, "multipart buffer full")
            zmq_msg_move(frames + count, source.frame(index))
            count += 1
        }
    }
}
