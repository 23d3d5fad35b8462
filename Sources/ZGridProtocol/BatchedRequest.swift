/// One request of a batched message (CALLS, REQUESTS): the request frame names it, and the payload
/// frame that follows it is its one payload frame.
///
/// The request frame: the request or dispatch id (u64), the header's length (u8, 8 to 64), the call
/// header, then the function name (1 to 255 bytes).
public struct BatchedRequest: Sendable, Equatable {
    /// The request id (CALLS) or dispatch id (REQUESTS).
    public let id: UInt64
    /// The function to run.
    public let function: String
    /// The call header.
    public let header: CallHeader
    /// Where its payload frame is in the message.
    public let payloadIndex: Int

    /// Names one request of a batched message.
    public init(id: UInt64, function: String, header: CallHeader, payloadIndex: Int) {
        self.id = id
        self.function = function
        self.header = header
        self.payloadIndex = payloadIndex
    }

    /// The most requests (or results) one batched message carries.
    public static let maxPerMessage = 32

    /// How many requests or results a peer may put in one batched message to a receiver that takes
    /// at most `frameLimit` frames per message, routing identity included (0 or 1: send them singly).
    public static func perMessage(frameLimit: Int) -> Int {
        min(maxPerMessage, max(0, (frameLimit - 3) / 2))
    }

    /// Sends `count` items in messages of at most `perMessage`: `single` for an item that goes
    /// alone (a batched message carries at least two), `batch` for the range of each batched
    /// message. With `perMessage` below 2 every item goes alone.
    @inlinable
    public static func forEachMessage<E: Error>(
        of count: Int, perMessage: Int, single: (Int) throws(E) -> Void, batch: (Range<Int>) throws(E) -> Void
    ) throws(E) {
        let size = max(1, perMessage)
        var start = 0
        while start < count {
            let end = min(count, start + size)
            if end - start == 1 { try single(start) } else { try batch(start..<end) }
            start = end
        }
    }

    /// Appends the request frame for `id`, `header` and `function` to `bytes`.
    public static func encode(id: UInt64, header: CallHeader, function: String, into bytes: inout [UInt8]) {
        bytes.appendBigEndian(id)
        let start = bytes.count
        bytes.append(0)
        header.encode(into: &bytes)
        bytes[start] = UInt8(bytes.count - start - 1)
        bytes.append(contentsOf: function.utf8)
    }

    /// Reads a request frame; nil when it is malformed.
    public static func decode(_ raw: UnsafeRawBufferPointer, payloadIndex: Int) -> BatchedRequest? {
        guard raw.count >= 9 + CallHeader.size + 1 else { return nil }
        let headerLength = Int(raw[8])
        guard headerLength >= CallHeader.size, headerLength <= CallHeader.maxSize, raw.count > 9 + headerLength else { return nil }
        guard let header = CallHeader(decoding: UnsafeRawBufferPointer(rebasing: raw[9..<(9 + headerLength)])) else { return nil }
        let name = UnsafeRawBufferPointer(rebasing: raw[(9 + headerLength)...])
        guard FunctionName.isValid(name) else { return nil }
        return BatchedRequest(
            id: raw.readBigEndianUInt64(), function: String(decoding: name, as: UTF8.self), header: header, payloadIndex: payloadIndex)
    }
}
