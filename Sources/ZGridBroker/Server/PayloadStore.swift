import ZeroMQ

/// A pool of receive buffers on the broker's loop thread. Each message is received into a buffer
/// from the pool; the buffer's index is the ``PayloadHandle`` the core sees, and it returns to the
/// pool once its payload is sent on or released. In steady state nothing is allocated.
///
/// After a burst (thousands of payloads held at once) the pool keeps at most ``warmBuffers`` free
/// buffers allocated: the others are dropped and made again when needed, so memory falls back.
final class PayloadStore {
    private let framesPerMessage: Int
    /// The buffer of each handle; nil for a free handle whose buffer was dropped.
    private var buffers: [Multipart?] = []
    private var payloadStarts: [Int] = []
    private var free: [Int] = []
    /// Free handles whose buffers are still allocated.
    private var warm = 0

    /// The most free buffers kept allocated.
    static let warmBuffers = 1024

    init(framesPerMessage: Int) {
        self.framesPerMessage = framesPerMessage
    }

    /// A free buffer and its handle.
    func checkout() -> (PayloadHandle, Multipart) {
        if let handle = free.popLast() {
            if let buffer = buffers[handle] {
                warm -= 1
                return (handle, buffer)
            }
            let buffer = Multipart(capacity: framesPerMessage)
            buffers[handle] = buffer
            return (handle, buffer)
        }
        let buffer = Multipart(capacity: framesPerMessage)
        buffers.append(buffer)
        payloadStarts.append(0)
        return (buffers.count - 1, buffer)
    }

    /// Marks where the payload of the message in `handle` starts.
    func setPayloadStart(_ start: Int, for handle: PayloadHandle) {
        payloadStarts[handle] = start
    }

    /// The buffer and payload frame range of `handle` (which must be checked out).
    func payload(_ handle: PayloadHandle) -> (Multipart, Range<Int>) {
        let buffer = buffers[handle]!
        return (buffer, min(payloadStarts[handle], buffer.count)..<buffer.count)
    }

    /// Closes the frames of `handle` and returns its buffer to the pool (or drops it when enough
    /// free buffers are kept).
    func release(_ handle: PayloadHandle) {
        if warm < Self.warmBuffers {
            buffers[handle]?.clear()
            warm += 1
        } else {
            buffers[handle] = nil
        }
        free.append(handle)
    }

    /// Buffers not in the pool right now (payloads held for queued or retryable calls).
    var held: Int { buffers.count - free.count }
}
