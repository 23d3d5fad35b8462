extension Array where Element == UInt8 {
    /// Appends `value` in big-endian order.
    @inlinable
    public mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        var big = value.bigEndian
        Swift.withUnsafeBytes(of: &big) { append(contentsOf: $0) }
    }

    /// The big-endian encoding of `value`.
    @inlinable
    public static func bigEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(MemoryLayout<T>.size)
        bytes.appendBigEndian(value)
        return bytes
    }
}

extension UnsafeRawBufferPointer {
    /// Reads a big-endian `UInt64` at `offset` (the caller checks the length).
    @inlinable
    public func readBigEndianUInt64(at offset: Int = 0) -> UInt64 {
        var value: UInt64 = 0
        for index in offset..<(offset + 8) { value = value << 8 | UInt64(self[index]) }
        return value
    }

    /// Reads a big-endian `UInt32` at `offset` (the caller checks the length).
    @inlinable
    public func readBigEndianUInt32(at offset: Int = 0) -> UInt32 {
        var value: UInt32 = 0
        for index in offset..<(offset + 4) { value = value << 8 | UInt32(self[index]) }
        return value
    }

    /// Reads a big-endian `UInt16` at `offset` (the caller checks the length).
    @inlinable
    public func readBigEndianUInt16(at offset: Int = 0) -> UInt16 {
        UInt16(self[offset]) << 8 | UInt16(self[offset + 1])
    }
}
