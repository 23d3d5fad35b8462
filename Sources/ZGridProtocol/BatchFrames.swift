/// The items frame of a batch REQUEST (frame 5): for each job in the batch, in payload order, its
/// id (u64, big-endian) and attempt (u8). The payload frames that follow are the jobs' payloads,
/// one frame each.
public enum BatchItems {
    /// The most jobs in one batch, so a batch REQUEST and its REPLY stay within the default frame limit.
    public static let maxItems = 48
    /// Bytes per item in the items frame.
    public static let itemSize = 9

    /// One job of a batch.
    public struct Item: Sendable, Equatable {
        /// The job's id.
        public var job: UInt64
        /// Its attempt number.
        public var attempt: UInt8

        /// Creates an item.
        public init(job: UInt64, attempt: UInt8) {
            self.job = job
            self.attempt = attempt
        }
    }

    /// The items frame for `items`.
    public static func encode(_ items: [Item]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(items.count * itemSize)
        for item in items {
            bytes.appendBigEndian(item.job)
            bytes.append(item.attempt)
        }
        return bytes
    }

    /// Reads an items frame; nil when its length is not a whole number of items from 1 to ``maxItems``.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> [Item]? {
        guard bytes.count % itemSize == 0, (1...maxItems).contains(bytes.count / itemSize) else { return nil }
        return stride(from: 0, to: bytes.count, by: itemSize).map { offset in
            Item(job: bytes.readBigEndianUInt64(at: offset), attempt: bytes[offset + 8])
        }
    }
}

/// One result frame of a batch REPLY (frames 3+, one per item, in the REQUEST's order): status byte
/// 0 and the item's result payload, or status byte 1, the error code (u16, big-endian) and a UTF-8
/// message.
public enum BatchResult: Sendable, Equatable {
    /// The item succeeded with this payload.
    case success([UInt8])
    /// The item failed.
    case failure(ErrorCode, String)

    /// The frame.
    public var encoded: [UInt8] {
        switch self {
        case .success(let payload):
            return [0] + payload
        case .failure(let code, let message):
            var bytes: [UInt8] = [1]
            bytes.appendBigEndian(code.rawValue)
            return bytes + Array(message.utf8)
        }
    }

    /// Reads a result frame; nil when the status byte or error code is unknown.
    public init?(decoding bytes: UnsafeRawBufferPointer) {
        guard let status = bytes.first else { return nil }
        switch status {
        case 0:
            self = .success(Array(bytes.dropFirst()))
        case 1:
            guard bytes.count >= 3, let code = ErrorCode(rawValue: UInt16(bytes[1]) << 8 | UInt16(bytes[2])) else { return nil }
            self = .failure(code, String(decoding: bytes.dropFirst(3), as: UTF8.self))
        default:
            return nil
        }
    }
}
