import ZeroMQ

/// A pool of receive buffers on the broker's loop thread. Each message is received into a buffer
/// from the pool; a ``PayloadHandle`` names frames of one buffer, and the buffer returns to the
/// pool once every handle on it is sent on or released. In steady state nothing is allocated.
///
/// Usually a buffer has one handle. A message carrying several payloads (REPLIES) is split into one
/// handle per payload, all on the same buffer, so each payload goes its own way without a copy.
///
/// After a burst (thousands of payloads held at once) the pool keeps at most ``warmBuffers`` free
/// buffers allocated: the others are dropped and made again when needed, so memory falls back.
final class PayloadStore {
    private let framesPerMessage: Int
    /// The buffers; nil for a free buffer that was dropped.
    private var buffers: [Multipart?] = []
    /// How many handles hold each buffer (0 when the buffer is free).
    private var holders: [Int] = []
    private var freeBuffers: [Int] = []
    /// Free buffers that are still allocated.
    private var warm = 0
    /// Each handle's buffer and frames: `upper` is nil for "to the end of the message".
    private var handleBuffer: [Int] = []
    private var handleLower: [Int] = []
    private var handleUpper: [Int?] = []
    private var freeHandles: [PayloadHandle] = []

    /// The most free buffers kept allocated.
    static let warmBuffers = 1024

    init(framesPerMessage: Int) {
        self.framesPerMessage = framesPerMessage
    }

    /// A free buffer and the one handle on it.
    func checkout() -> (PayloadHandle, Multipart) {
        let (index, buffer) = checkoutBuffer()
        return (newHandle(buffer: index, lower: 0, upper: nil), buffer)
    }

    private func checkoutBuffer() -> (Int, Multipart) {
        if let index = freeBuffers.popLast() {
            holders[index] = 1
            if let buffer = buffers[index] {
                warm -= 1
                return (index, buffer)
            }
            let buffer = Multipart(capacity: framesPerMessage)
            buffers[index] = buffer
            return (index, buffer)
        }
        let buffer = Multipart(capacity: framesPerMessage)
        buffers.append(buffer)
        holders.append(1)
        return (buffers.count - 1, buffer)
    }

    private func newHandle(buffer: Int, lower: Int, upper: Int?) -> PayloadHandle {
        if let handle = freeHandles.popLast() {
            handleBuffer[handle] = buffer
            handleLower[handle] = lower
            handleUpper[handle] = upper
            return handle
        }
        handleBuffer.append(buffer)
        handleLower.append(lower)
        handleUpper.append(upper)
        return handleBuffer.count - 1
    }

    /// Marks where the payload of the message in `handle` starts (it runs to the message's end).
    func setPayloadStart(_ start: Int, for handle: PayloadHandle) {
        handleLower[handle] = start
        handleUpper[handle] = nil
    }

    /// New handles on the buffer of `handle`, one for each range of frames; `handle` itself is
    /// released. The buffer returns to the pool once all of them are released.
    func split(_ handle: PayloadHandle, into ranges: [Range<Int>]) -> [PayloadHandle] {
        let buffer = handleBuffer[handle]
        let handles = ranges.map { newHandle(buffer: buffer, lower: $0.lowerBound, upper: $0.upperBound) }
        holders[buffer] += handles.count
        release(handle)
        return handles
    }

    /// The buffer and payload frame range of `handle` (which must be checked out).
    func payload(_ handle: PayloadHandle) -> (Multipart, Range<Int>) {
        let buffer = buffers[handleBuffer[handle]]!
        let upper = min(handleUpper[handle] ?? buffer.count, buffer.count)
        return (buffer, min(handleLower[handle], upper)..<upper)
    }

    /// Gives `handle` up. When it was the last handle on its buffer, closes the buffer's frames and
    /// returns it to the pool (or drops it when enough free buffers are kept).
    func release(_ handle: PayloadHandle) {
        let index = handleBuffer[handle]
        freeHandles.append(handle)
        holders[index] -= 1
        guard holders[index] == 0 else { return }
        if warm < Self.warmBuffers {
            buffers[index]?.clear()
            warm += 1
        } else {
            buffers[index] = nil
        }
        freeBuffers.append(index)
    }

    /// Buffers not in the pool right now (payloads held for queued or retryable calls).
    var held: Int { buffers.count - freeBuffers.count }
}
