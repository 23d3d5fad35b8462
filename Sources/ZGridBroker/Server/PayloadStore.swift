import ZeroMQ

/// A pool of receive buffers on the broker's loop thread. Each message is received into a buffer
/// from the pool; the buffer's index is the ``PayloadHandle`` the core sees, and it returns to the
/// pool once its payload is sent on or released. In steady state nothing is allocated.
final class PayloadStore {
    private let framesPerMessage: Int
    private var buffers: [Multipart] = []
    private var payloadStarts: [Int] = []
    private var free: [Int] = []

    init(framesPerMessage: Int) {
        self.framesPerMessage = framesPerMessage
    }

    /// A free buffer and its handle.
    func checkout() -> (PayloadHandle, Multipart) {
        if let handle = free.popLast() { return (handle, buffers[handle]) }
        let buffer = Multipart(capacity: framesPerMessage)
        buffers.append(buffer)
        payloadStarts.append(0)
        return (buffers.count - 1, buffer)
    }

    /// Marks where the payload of the message in `handle` starts.
    func setPayloadStart(_ start: Int, for handle: PayloadHandle) {
        payloadStarts[handle] = start
    }

    /// The buffer and payload frame range of `handle`.
    func payload(_ handle: PayloadHandle) -> (Multipart, Range<Int>) {
        let buffer = buffers[handle]
        return (buffer, min(payloadStarts[handle], buffer.count)..<buffer.count)
    }

    /// Closes the frames of `handle` and returns its buffer to the pool.
    func release(_ handle: PayloadHandle) {
        buffers[handle].clear()
        free.append(handle)
    }

    /// Buffers not in the pool right now (payloads held for queued or retryable calls).
    var held: Int { buffers.count - free.count }
}
