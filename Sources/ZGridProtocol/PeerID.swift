/// A ROUTER routing identity: the bytes that address one connected peer.
///
/// Identities of up to 16 bytes (libzmq's generated ones are 5) are stored inline without allocation.
public struct PeerID: Hashable, Sendable, CustomStringConvertible {
    private enum Storage: Hashable, Sendable {
        case inline(UInt64, UInt64, UInt8)
        case heap([UInt8])
    }

    private let storage: Storage

    /// Creates an identity from its bytes.
    public init(_ bytes: UnsafeRawBufferPointer) {
        if bytes.count <= 16 {
            var low: UInt64 = 0
            var high: UInt64 = 0
            for (index, byte) in bytes.enumerated() {
                if index < 8 { low |= UInt64(byte) << (8 * UInt64(index)) } else { high |= UInt64(byte) << (8 * UInt64(index - 8)) }
            }
            storage = .inline(low, high, UInt8(bytes.count))
        } else {
            storage = .heap(Array(bytes))
        }
    }

    /// Creates an identity from a byte array.
    public init(_ bytes: [UInt8]) {
        self = bytes.withUnsafeBytes { PeerID($0) }
    }

    /// Calls `body` with the identity's bytes.
    public func withBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        switch storage {
        case .inline(let low, let high, let count):
            var pair = (low.littleEndian, high.littleEndian)
            return try withUnsafeBytes(of: &pair) { (raw) throws(E) -> R in
                try body(UnsafeRawBufferPointer(rebasing: raw[0..<Int(count)]))
            }
        case .heap(let bytes):
            var result: Result<R, E>?
            bytes.withUnsafeBytes { raw in result = Result { () throws(E) -> R in try body(raw) } }
            return try result!.get()
        }
    }

    /// The identity's bytes.
    public var bytes: [UInt8] { withBytes { Array($0) } }

    /// The hash dictionaries and sets use: for inline identities, a seeded multiply–xorshift mix of
    /// the two words instead of SipHash, since the broker hashes identities several times per
    /// message. The seed enters before the first multiplication, so which identities collide
    /// depends on each dictionary's seed.
    public func _rawHashValue(seed: Int) -> Int {
        switch storage {
        case .inline(let low, let high, let count):
            return Self.mix(low ^ UInt64(count) << 56, high, seed: seed)
        case .heap(let bytes):
            var hasher = Hasher()
            hasher.combine(seed)
            hasher.combine(bytes)
            return hasher.finalize()
        }
    }

    /// Feeds the same value as ``_rawHashValue(seed:)`` with seed 0 to `hasher`.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(_rawHashValue(seed: 0))
    }

    /// Mixes two words and a seed into a well-spread hash.
    @inlinable @inline(__always)
    public static func mix(_ first: UInt64, _ second: UInt64, seed: Int) -> Int {
        var value = (first ^ UInt64(UInt(bitPattern: seed))) &* 0x9E37_79B9_7F4A_7C15
        value ^= value >> 29
        value = (value ^ second) &* 0xBF58_476D_1CE4_E5B9
        value ^= value >> 32
        value &*= 0x94D0_49BB_1331_11EB
        value ^= value >> 29
        return Int(truncatingIfNeeded: value)
    }

    /// The identity in hexadecimal, for logs.
    public var description: String {
        bytes.map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]])
        }.joined()
    }
}
