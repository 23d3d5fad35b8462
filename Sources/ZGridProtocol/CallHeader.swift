/// The compact per-call header frame: flags, priority, attempt, time limit and shard.
///
/// Wire form, 8 bytes: flags (u8), priority (u8), attempt (u8), reserved (u8, 0), timeout in
/// milliseconds (u32, big-endian, 0 = the broker's default). On REQUEST, 4 more bytes may follow:
/// the shard index (u32, big-endian; 0xFFFFFFFF = none), and after them 8 more: the background
/// job's id (u64, big-endian). Receivers accept longer frames and ignore bytes they do not know,
/// so later versions can append fields.
public struct CallHeader: Sendable, Equatable {
    /// Bit 0 of ``flags``: the call may safely run twice, so the broker may retry it on another worker.
    public static let idempotentFlag: UInt8 = 0x01
    /// Bit 1 of ``flags``, on REQUEST only: a batch of background jobs (see ``BatchItems``).
    public static let batchFlag: UInt8 = 0x02
    /// The size of the header frame in this version.
    public static let size = 8
    /// The longest header frame accepted (room for fields later versions append).
    public static let maxSize = 64

    /// Flag bits (``idempotentFlag``).
    public var flags: UInt8
    /// Priority 0 (lowest) to 9 (highest).
    public var priority: UInt8
    /// Which attempt this is, 1 for the first; set by the broker on REQUEST.
    public var attempt: UInt8
    /// The time limit in milliseconds; 0 means the broker's default. On REQUEST: the time left.
    public var timeoutMilliseconds: UInt32
    /// On REQUEST: the shard of a sharded function this request is for.
    public var shard: UInt32?
    /// On REQUEST: the background job this attempt runs.
    public var job: UInt64?

    /// Creates a header.
    public init(
        flags: UInt8 = 0, priority: UInt8 = 0, attempt: UInt8 = 1, timeoutMilliseconds: UInt32 = 0, shard: UInt32? = nil,
        job: UInt64? = nil
    ) {
        self.flags = flags
        self.priority = priority
        self.attempt = attempt
        self.timeoutMilliseconds = timeoutMilliseconds
        self.shard = shard
        self.job = job
    }

    /// The shard field's value meaning "no shard", when a job id follows.
    static let noShard = UInt32.max

    /// Whether the idempotent flag is set.
    public var isIdempotent: Bool {
        get { flags & Self.idempotentFlag != 0 }
        set { flags = newValue ? flags | Self.idempotentFlag : flags & ~Self.idempotentFlag }
    }

    /// Whether the batch flag is set (REQUEST only).
    public var isBatch: Bool {
        get { flags & Self.batchFlag != 0 }
        set { flags = newValue ? flags | Self.batchFlag : flags & ~Self.batchFlag }
    }

    /// The 8-byte wire form.
    public var encoded: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(20)
        encode(into: &bytes)
        return bytes
    }

    /// The most bytes ``encode(into:)-(UnsafeMutableRawBufferPointer)`` writes: the header with a
    /// shard and a job.
    public static let largestEncoded = 20

    /// Writes the header frame's bytes at the start of `buffer` (at least ``largestEncoded`` bytes)
    /// and returns how many it wrote.
    public func encode(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        buffer[0] = flags
        buffer[1] = priority
        buffer[2] = attempt
        buffer[3] = 0
        buffer.storeBytes(of: timeoutMilliseconds.bigEndian, toByteOffset: 4, as: UInt32.self)
        guard shard != nil || job != nil else { return 8 }
        buffer.storeBytes(of: (shard ?? Self.noShard).bigEndian, toByteOffset: 8, as: UInt32.self)
        guard let job else { return 12 }
        buffer.storeBytes(of: job.bigEndian, toByteOffset: 12, as: UInt64.self)
        return 20
    }

    /// Appends the wire form to `bytes`.
    public func encode(into bytes: inout [UInt8]) {
        withUnsafeTemporaryAllocation(byteCount: Self.largestEncoded, alignment: 1) { buffer in
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[..<encode(into: buffer)]))
        }
    }

    /// Reads a header frame; nil when it is shorter than 8 bytes or the priority is above 9.
    public init?(decoding bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= Self.size, bytes.count <= Self.maxSize, bytes[1] <= 9 else { return nil }
        flags = bytes[0]
        priority = bytes[1]
        attempt = bytes[2]
        timeoutMilliseconds = bytes.readBigEndianUInt32(at: 4)
        let shardField = bytes.count >= 12 ? bytes.readBigEndianUInt32(at: 8) : Self.noShard
        shard = shardField == Self.noShard ? nil : shardField
        job = bytes.count >= 20 ? bytes.readBigEndianUInt64(at: 12) : nil
    }
}
