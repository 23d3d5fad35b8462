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
}
