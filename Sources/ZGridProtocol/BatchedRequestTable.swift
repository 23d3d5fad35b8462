import ZeroMQ

/// The checked request table of a batched message (CALLS, REQUESTS): which frame holds it and how
/// many requests it names, each with one payload frame right after the table.
///
/// Decoding checks every entry but keeps none: ``forEach(in:_:)`` reads them from the message
/// afterwards, one at a time and without checking again, so a message of 32 requests costs no
/// array of 32 entries (an allocation large enough to miss the allocator's per-thread cache, once
/// per message).
public struct BatchedRequestTable: Sendable, Equatable {
    /// The frame that holds the table.
    public let frame: Int
    /// How many requests it names (at least two).
    public let count: Int

    /// Names a table already checked; for tests and peers that build messages.
    public init(frame: Int, count: Int) {
        self.frame = frame
        self.count = count
    }

    /// Checks the table in frame `frame` of `message`: nil when an entry is malformed, bytes are left
    /// over, or the entries do not match the payload frames after it (at least two).
    init?(checking message: Multipart, frame: Int) {
        let payloads = message.count - frame - 1
        guard payloads >= 2 else { return nil }
        let entries = message.withBytes(frame) { raw -> Int? in
            var offset = 0
            var entries = 0
            while offset < raw.count {
                guard entries < payloads, let next = BatchedRequest.checkEntry(raw, at: offset) else { return nil }
                entries += 1
                offset = next
            }
            return entries
        }
        guard entries == payloads else { return nil }
        self.frame = frame
        self.count = payloads
    }

    /// The first payload frame (the requests' payloads follow it in order).
    public var firstPayload: Int { frame + 1 }

    /// Calls `body` with each request of the table, in order. `message` must be the message the
    /// table was decoded from, unchanged.
    @inlinable
    public func forEach<E: Error>(in message: Multipart, _ body: (BatchedRequest) throws(E) -> Void) throws(E) {
        var offset = 0
        for index in 0..<count {
            let request = message.withBytes(frame) { raw in
                BatchedRequest.readEntry(raw, at: &offset, payloadIndex: firstPayload + index)
            }
            try body(request)
        }
    }

    /// The requests of the table, in order (an array: for tests and cold paths).
    public func requests(in message: Multipart) -> [BatchedRequest] {
        var requests: [BatchedRequest] = []
        requests.reserveCapacity(count)
        forEach(in: message) { requests.append($0) }
        return requests
    }
}
