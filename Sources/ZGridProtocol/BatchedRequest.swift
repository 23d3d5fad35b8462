/// One request of a batched message (CALLS, REQUESTS): its entry in the message's request table
/// names it, and the payload frame at its position after the table is its one payload frame.
///
/// A table entry: the request or dispatch id (u64), the header's length (u8, 8 to 64), the call
/// header, the function name's length (u8, 1 to 255), then the function name. A batched message
/// carries one table frame for all its requests, so a request costs one frame, not two.
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
    /// Besides one frame per item, such a message has four: identity, tag, command and table.
    public static func perMessage(frameLimit: Int) -> Int {
        min(maxPerMessage, max(0, frameLimit - 4))
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

    /// Appends the table entry for `id`, `header` and `function` (a valid name) to `bytes`.
    public static func encode(id: UInt64, header: CallHeader, function: String, into bytes: inout [UInt8]) {
        // The fixed part is written into a stack buffer and appended at once: every byte appended
        // on its own costs a uniqueness and a capacity check of `bytes`, per entry of every batch.
        withUnsafeTemporaryAllocation(byteCount: 8 + 1 + CallHeader.largestEncoded + 1, alignment: 1) { buffer in
            buffer.storeBytes(of: id.bigEndian, toByteOffset: 0, as: UInt64.self)
            let headerSize = header.encode(into: UnsafeMutableRawBufferPointer(rebasing: buffer[9...]))
            buffer[8] = UInt8(headerSize)
            buffer[9 + headerSize] = UInt8(truncatingIfNeeded: function.utf8.count)
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[..<(10 + headerSize)]))
        }
        bytes.append(contentsOf: function.utf8)
    }

    /// Reads a request table whose first request's payload is frame `firstPayload` (the next ones
    /// follow it); nil when an entry is malformed, or bytes are left over after the last one.
    /// `expected`, the number of payload frames, sizes the result up front.
    public static func decodeTable(_ raw: UnsafeRawBufferPointer, firstPayload: Int, expected: Int = 0) -> [BatchedRequest]? {
        var requests: [BatchedRequest] = []
        // Grown entry by entry, the array would be allocated again at 1, 2, 4, 8, 16 and 32 entries.
        requests.reserveCapacity(min(max(0, expected), maxPerMessage))
        var offset = 0
        while offset < raw.count {
            guard checkEntry(raw, at: offset) != nil else { return nil }
            requests.append(readEntry(raw, at: &offset, payloadIndex: firstPayload + requests.count))
        }
        return requests
    }

    /// Checks the table entry at `offset`: where the next one starts, or nil when this one is
    /// malformed or runs past the end.
    static func checkEntry(_ raw: UnsafeRawBufferPointer, at offset: Int) -> Int? {
        // id, header length, header (at least its fixed part), name length, name (at least 1 byte)
        guard offset >= 0, raw.count - offset >= 8 + 1 + CallHeader.size + 1 + 1 else { return nil }
        let headerLength = Int(raw[offset + 8])
        let headerStart = offset + 9
        guard headerLength >= CallHeader.size, headerLength <= CallHeader.maxSize, raw.count > headerStart + headerLength else {
            return nil
        }
        guard CallHeader(decoding: UnsafeRawBufferPointer(rebasing: raw[headerStart..<(headerStart + headerLength)])) != nil else {
            return nil
        }
        let nameStart = headerStart + headerLength + 1
        let nameLength = Int(raw[nameStart - 1])
        guard nameLength > 0, raw.count - nameStart >= nameLength else { return nil }
        guard FunctionName.isValid(UnsafeRawBufferPointer(rebasing: raw[nameStart..<(nameStart + nameLength)])) else { return nil }
        return nameStart + nameLength
    }

    /// Reads the table entry at `offset`, which ``checkEntry(_:at:)`` found valid, and moves
    /// `offset` past it.
    @usableFromInline
    static func readEntry(_ raw: UnsafeRawBufferPointer, at offset: inout Int, payloadIndex: Int) -> BatchedRequest {
        let headerStart = offset + 9
        let headerEnd = headerStart + Int(raw[offset + 8])
        guard let header = CallHeader(decoding: UnsafeRawBufferPointer(rebasing: raw[headerStart..<headerEnd])) else {
            preconditionFailure("a request table entry changed after it was checked")
        }
        let nameEnd = headerEnd + 1 + Int(raw[headerEnd])
        let request = BatchedRequest(
            id: raw.readBigEndianUInt64(at: offset),
            function: String(decoding: UnsafeRawBufferPointer(rebasing: raw[(headerEnd + 1)..<nameEnd]), as: UTF8.self), header: header,
            payloadIndex: payloadIndex)
        offset = nameEnd
        return request
    }
}
