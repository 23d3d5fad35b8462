import ZeroMQ

extension Multipart {
    /// Whether frame `index` holds exactly `tag`.
    func frameEquals(_ index: Int, _ tag: [UInt8]) -> Bool {
        withBytes(index) { raw in raw.count == tag.count && tag.withUnsafeBytes { raw.elementsEqual($0) } }
    }

    /// The single byte of frame `index`, or nil when it is not one byte long.
    func singleByte(_ index: Int) -> UInt8? {
        withBytes(index) { $0.count == 1 ? $0[0] : nil }
    }

    /// The 8-byte big-endian id in frame `index`.
    func id(_ index: Int) -> UInt64? {
        withBytes(index) { $0.count == 8 ? $0.readBigEndianUInt64() : nil }
    }

    /// A valid function name in frame `index`.
    func functionName(_ index: Int) -> String? {
        withBytes(index) { FunctionName.isValid($0) ? String(decoding: $0, as: UTF8.self) : nil }
    }

    /// The header in frame `index`.
    func header(_ index: Int) -> CallHeader? {
        withBytes(index) { CallHeader(decoding: $0) }
    }

    /// The ERROR code and message at frames `index` and `index + 1`.
    func errorBody(_ index: Int) -> (ErrorCode, String)? {
        guard count >= index + 2 else { return nil }
        let code: ErrorCode? = withBytes(index) { $0.count == 2 ? ErrorCode(rawValue: $0.readBigEndianUInt16()) : nil }
        guard let code else { return nil }
        return (code, withBytes(index + 1) { String(decoding: $0, as: UTF8.self) })
    }

    /// The ids of a batch of results: from frame `start` on, pairs of an id frame and one payload
    /// frame (at least two pairs); nil when the frames do not pair up or an id is malformed.
    func pairedIDs(from start: Int) -> [UInt64]? {
        guard count >= start + 4, (count - start) % 2 == 0 else { return nil }
        var ids: [UInt64] = []
        ids.reserveCapacity((count - start) / 2)
        for index in stride(from: start, to: count, by: 2) {
            guard let id = id(index) else { return nil }
            ids.append(id)
        }
        return ids
    }

    /// The requests of a batch: from frame `start` on, pairs of a request frame and one payload
    /// frame (at least two pairs); nil when the frames do not pair up or a request frame is malformed.
    func batchedRequests(from start: Int) -> [BatchedRequest]? {
        guard count >= start + 4, (count - start) % 2 == 0 else { return nil }
        var entries: [BatchedRequest] = []
        entries.reserveCapacity((count - start) / 2)
        for index in stride(from: start, to: count, by: 2) {
            guard let entry = withBytes(index, { BatchedRequest.decode($0, payloadIndex: index + 1) }) else { return nil }
            entries.append(entry)
        }
        return entries
    }

    /// The frame limit (u32) an optional HEARTBEAT frame carries.
    func frameLimit(at index: Int) -> Int? {
        count > index ? withBytes(index) { $0.count == 4 ? Int($0.readBigEndianUInt32()) : nil } : nil
    }
}
