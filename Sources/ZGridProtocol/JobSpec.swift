/// The options of a SUBMIT, in its fixed-size spec frame.
///
/// Wire form, 32 bytes, big-endian: priority (u8, 0-9), flags (u8, bit 0 sheddable), max attempts (u16, 1+),
/// backoff base in ms (u32), time limit in ms (u32, 0 = the broker's default), result time-to-live
/// in seconds (u32, 0 = the broker's default), run-at as wall-clock ms since 1970 (i64, 0 = now),
/// reserved (8 bytes). Longer frames are accepted.
public struct JobSpec: Sendable, Equatable {
    /// The size of the spec frame.
    public static let size = 32

    /// 0 (lowest) to 9.
    public var priority: UInt8
    /// Flag bits (``sheddableFlag``).
    public var flags: UInt8 = 0
    /// Bit 0 of ``flags``: load shedding may park the job as deferred under overload.
    public static let sheddableFlag: UInt8 = 0x01

    /// Whether the sheddable flag is set.
    public var isSheddable: Bool {
        get { flags & Self.sheddableFlag != 0 }
        set { flags = newValue ? flags | Self.sheddableFlag : flags & ~Self.sheddableFlag }
    }
    /// Attempts in all before the job is dead-lettered.
    public var maxAttempts: UInt16
    /// The base of the exponential retry backoff.
    public var backoffMilliseconds: UInt32
    /// The time limit of one attempt; 0 = the broker's default.
    public var timeLimitMilliseconds: UInt32
    /// How long the result is kept after the job finished; 0 = the broker's default.
    public var resultTTLSeconds: UInt32
    /// Not before this wall-clock time (ms since 1970); 0 = as soon as possible.
    public var runAt: Int64

    /// Creates a spec.
    public init(
        priority: UInt8 = 0, maxAttempts: UInt16 = 3, backoffMilliseconds: UInt32 = 1000, timeLimitMilliseconds: UInt32 = 0,
        resultTTLSeconds: UInt32 = 0, runAt: Int64 = 0
    ) {
        self.priority = priority
        self.maxAttempts = maxAttempts
        self.backoffMilliseconds = backoffMilliseconds
        self.timeLimitMilliseconds = timeLimitMilliseconds
        self.resultTTLSeconds = resultTTLSeconds
        self.runAt = runAt
    }

    /// The wire form.
    public var encoded: [UInt8] {
        var bytes: [UInt8] = [priority, flags]
        bytes.appendBigEndian(maxAttempts)
        bytes.appendBigEndian(backoffMilliseconds)
        bytes.appendBigEndian(timeLimitMilliseconds)
        bytes.appendBigEndian(resultTTLSeconds)
        bytes.appendBigEndian(runAt)
        return bytes + [UInt8](repeating: 0, count: 8)
    }

    /// Reads a spec frame; nil when short, the priority is above 9 or max attempts is 0.
    public init?(decoding bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= Self.size, bytes[0] <= 9 else { return nil }
        priority = bytes[0]
        flags = bytes[1]
        maxAttempts = bytes.readBigEndianUInt16(at: 2)
        guard maxAttempts >= 1 else { return nil }
        backoffMilliseconds = bytes.readBigEndianUInt32(at: 4)
        timeLimitMilliseconds = bytes.readBigEndianUInt32(at: 8)
        resultTTLSeconds = bytes.readBigEndianUInt32(at: 12)
        runAt = Int64(bitPattern: bytes.readBigEndianUInt64(at: 16))
    }
}
