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

    /// The ids of a batch of results: frame `table` holds one id (u64) per result, and the frames
    /// after it are the results, one each (at least two); nil when the ids and frames do not match.
    func batchIDs(tableAt table: Int) -> [UInt64]? {
        let results = count - table - 1
        guard results >= 2 else { return nil }
        return withBytes(table) { raw -> [UInt64]? in
            guard raw.count == 8 * results else { return nil }
            return (0..<results).map { raw.readBigEndianUInt64(at: 8 * $0) }
        }
    }

    /// The requests of a batch: frame `table` is the request table, and the frames after it are
    /// the payloads, one per request (at least two); nil when the table is malformed or its entries
    /// and the payload frames do not match.
    func batchedRequests(tableAt table: Int) -> BatchedRequestTable? {
        BatchedRequestTable(checking: self, frame: table)
    }

    /// The limit (u32) an optional HEARTBEAT frame carries; nil when the frame is missing or not 4 bytes.
    func limit(at index: Int) -> Int? {
        count > index ? withBytes(index) { $0.count == 4 ? Int($0.readBigEndianUInt32()) : nil } : nil
    }
}
