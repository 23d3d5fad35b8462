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
///
/// Only the loop thread touches a store, and no method calls back into another while it changes a
/// property, so the properties skip the runtime's exclusivity checks (several per call on the hot
/// path otherwise).
final class PayloadStore {
    /// One handle: its buffer and frames (`upper` is `toEnd` for "to the end of the message").
    private struct Slot {
        var buffer: Int
        var lower: Int
        var upper: Int
    }
    private static let toEnd = -1

    private let framesPerMessage: Int
    /// The buffers; nil for a free buffer that was dropped.
    @exclusivity(unchecked) private var buffers: ContiguousArray<Multipart?> = []
    /// How many handles hold each buffer (0 when the buffer is free).
    @exclusivity(unchecked) private var holders: ContiguousArray<Int> = []
    @exclusivity(unchecked) private var freeBuffers: ContiguousArray<Int> = []
    /// Free buffers that are still allocated.
    @exclusivity(unchecked) private var warm = 0
    /// Each handle's slot, by handle.
    @exclusivity(unchecked) private var slots: ContiguousArray<Slot> = []
    @exclusivity(unchecked) private var freeHandles: ContiguousArray<PayloadHandle> = []

    /// The most free buffers kept allocated.
    static let warmBuffers = 1024

    init(framesPerMessage: Int) {
        self.framesPerMessage = framesPerMessage
    }

    /// A free buffer and the one handle on it.
    func checkout() -> (PayloadHandle, Multipart) {
        let (index, buffer) = checkoutBuffer()
        return (newHandle(Slot(buffer: index, lower: 0, upper: Self.toEnd)), buffer)
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

    private func newHandle(_ slot: Slot) -> PayloadHandle {
        if let handle = freeHandles.popLast() {
            slots[handle] = slot
            return handle
        }
        slots.append(slot)
        return slots.count - 1
    }

    /// Marks where the payload of the message in `handle` starts (it runs to the message's end).
    func setPayloadStart(_ start: Int, for handle: PayloadHandle) {
        slots[handle].lower = start
        slots[handle].upper = Self.toEnd
    }

    /// New handles on the buffer of `handle`, one for each range of frames; `handle` itself is
    /// released. The buffer returns to the pool once all of them are released.
    func split(_ handle: PayloadHandle, into ranges: [Range<Int>]) -> [PayloadHandle] {
        let buffer = slots[handle].buffer
        let handles = ranges.map { newHandle(Slot(buffer: buffer, lower: $0.lowerBound, upper: $0.upperBound)) }
        holders[buffer] += handles.count
        release(handle)
        return handles
    }

    /// The buffer and payload frame range of `handle` (which must be checked out).
    func payload(_ handle: PayloadHandle) -> (Multipart, Range<Int>) {
        let slot = slots[handle]
        let buffer = buffers[slot.buffer]!
        let upper = slot.upper == Self.toEnd ? buffer.count : min(slot.upper, buffer.count)
        return (buffer, min(slot.lower, upper)..<upper)
    }

    /// Gives `handle` up. When it was the last handle on its buffer, closes the buffer's frames and
    /// returns it to the pool (or drops it when enough free buffers are kept).
    func release(_ handle: PayloadHandle) {
        let index = slots[handle].buffer
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
