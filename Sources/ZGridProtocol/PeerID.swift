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

    /// The identity in hexadecimal, for logs.
    public var description: String {
        bytes.map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]])
        }.joined()
    }
}
