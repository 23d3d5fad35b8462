/// How a scatter is split into parts and when its gathering is complete.
///
/// Wire form (the SCATTER command's spec frame), 8 bytes: mode (u8), gather (u8), count (u16,
/// big-endian, the N of "first N"), reserved (4 bytes, 0). Longer frames are accepted.
public struct ScatterSpec: Sendable, Equatable {
    /// How parts are formed.
    public enum Mode: UInt8, Sendable {
        /// The payload goes to every shard of a sharded function, or to every worker of a plain one.
        case broadcast = 0
        /// Each payload frame is one input; the inputs are spread over the function's workers.
        case map = 1
    }

    /// When the gathering is complete.
    public enum Gather: Sendable, Equatable {
        /// Every part answered (or failed).
        case all
        /// The first `n` successful parts; the rest are cancelled.
        case first(Int)
        /// More than half of the parts succeeded; the rest are cancelled.
        case quorum
    }

    /// The size of the spec frame.
    public static let size = 8

    /// How parts are formed.
    public var mode: Mode
    /// When the gathering is complete.
    public var gather: Gather

    /// Creates a spec.
    public init(mode: Mode, gather: Gather = .all) {
        self.mode = mode
        self.gather = gather
    }

    /// The 8-byte wire form.
    public var encoded: [UInt8] {
        var bytes: [UInt8] = [mode.rawValue]
        switch gather {
        case .all: bytes += [0, 0, 0]
        case .first(let n):
            bytes.append(1)
            bytes.appendBigEndian(UInt16(clamping: n))
        case .quorum: bytes += [2, 0, 0]
        }
        return bytes + [0, 0, 0, 0]
    }

    /// Reads a spec frame; nil when it is short or names an unknown mode or gather policy, or
    /// "first 0".
    public init?(decoding bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= Self.size, let mode = Mode(rawValue: bytes[0]) else { return nil }
        self.mode = mode
        switch bytes[1] {
        case 0: gather = .all
        case 1:
            let n = Int(bytes.readBigEndianUInt16(at: 2))
            guard n >= 1 else { return nil }
            gather = .first(n)
        case 2: gather = .quorum
        default: return nil
        }
    }

    /// How many successful parts complete a scatter of `parts` parts.
    public func needed(of parts: Int) -> Int {
        switch gather {
        case .all: parts
        case .first(let n): min(n, parts)
        case .quorum: parts / 2 + 1
        }
    }
}

/// The per-part header frame of PART: which part, and its outcome.
///
/// Wire form, 8 bytes: part index (u32, big-endian), code (u16, big-endian; 0 = success, otherwise
/// an ``ErrorCode``), reserved (2 bytes). On success the payload frames follow; on failure one
/// frame with the error message.
public struct PartHeader: Sendable, Equatable {
    /// The part: the shard for a broadcast over a sharded function, the worker's position for a
    /// plain one, the input's position for a map.
    public var index: UInt32
    /// nil on success, else why the part failed.
    public var error: ErrorCode?

    /// Creates a part header.
    public init(index: UInt32, error: ErrorCode?) {
        self.index = index
        self.error = error
    }

    /// The 8-byte wire form.
    public var encoded: [UInt8] {
        var bytes: [UInt8] = []
        bytes.appendBigEndian(index)
        bytes.appendBigEndian(error?.rawValue ?? 0)
        return bytes + [0, 0]
    }

    /// Reads a part header; nil when short or the code is unknown.
    public init?(decoding bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= 8 else { return nil }
        index = bytes.readBigEndianUInt32()
        let code = bytes.readBigEndianUInt16(at: 4)
        if code == 0 {
            error = nil
        } else {
            guard let known = ErrorCode(rawValue: code) else { return nil }
            error = known
        }
    }
}

/// The summary frame of DONE: how many parts there were, succeeded and failed.
///
/// Wire form, 12 bytes: parts, succeeded, failed (each u32, big-endian). Parts neither succeeded
/// nor failed were cancelled once the gathering was complete.
public struct ScatterSummary: Sendable, Equatable {
    /// Parts in the scatter.
    public var parts: Int
    /// Parts that succeeded.
    public var succeeded: Int
    /// Parts that failed.
    public var failed: Int

    /// Creates a summary.
    public init(parts: Int, succeeded: Int, failed: Int) {
        self.parts = parts
        self.succeeded = succeeded
        self.failed = failed
    }

    /// The 12-byte wire form.
    public var encoded: [UInt8] {
        var bytes: [UInt8] = []
        bytes.appendBigEndian(UInt32(clamping: parts))
        bytes.appendBigEndian(UInt32(clamping: succeeded))
        bytes.appendBigEndian(UInt32(clamping: failed))
        return bytes
    }

    /// Reads a summary; nil when shorter than 12 bytes.
    public init?(decoding bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= 12 else { return nil }
        parts = Int(bytes.readBigEndianUInt32())
        succeeded = Int(bytes.readBigEndianUInt32(at: 4))
        failed = Int(bytes.readBigEndianUInt32(at: 8))
    }
}

/// A function a worker serves, as announced in READY: a name, optionally with the shards held and
/// its batching, written `name`, `name:0-3/16`, `name+batch=32/100` or `name:0-3/16+batch=32/100`.
public struct ServiceDescriptor: Sendable, Hashable, CustomStringConvertible {
    /// The function name.
    public var name: String
    /// The shards held, for a sharded function.
    public var shards: ShardSpec?
    /// For a batch-capable function: at most this many jobs per batch and how long the broker may
    /// hold the first job of a batch waiting for more.
    public var batch: BatchSpec?

    /// Creates a descriptor.
    public init(name: String, shards: ShardSpec? = nil, batch: BatchSpec? = nil) {
        self.name = name
        self.shards = shards
        self.batch = batch
    }

    /// Parses a descriptor; nil when the name, shard set or batch part is invalid.
    public init?(parsing text: String) {
        var rest = Substring(text)
        batch = nil
        if let plus = rest.firstIndex(of: "+") {
            guard let spec = BatchSpec(parsing: rest[rest.index(after: plus)...]) else { return nil }
            batch = spec
            rest = rest[..<plus]
        }
        let pieces = rest.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let name = String(pieces[0])
        guard FunctionName.isValid(name) else { return nil }
        self.name = name
        if pieces.count == 2 {
            guard case .success(let spec) = ShardSpec.parse(String(pieces[1])) else { return nil }
            shards = spec
        } else {
            shards = nil
        }
    }

    /// The text form, as parsed by ``init(parsing:)``.
    public var description: String {
        var text = shards.map { "\(name):\($0)" } ?? name
        if let batch { text += "+\(batch)" }
        return text
    }
}

/// How a batch-capable function takes background jobs: up to ``maxItems`` jobs that share a batch
/// key in one REQUEST, sent when that many are queued or the oldest has waited ``maxWaitMilliseconds``.
public struct BatchSpec: Sendable, Hashable, CustomStringConvertible {
    /// The most jobs in one batch (1 to ``BatchItems/maxItems``).
    public var maxItems: Int
    /// How long the broker may hold a batch's first job for more, in milliseconds (0 to 60,000).
    public var maxWaitMilliseconds: Int

    /// Creates a spec; nil when out of range.
    public init?(maxItems: Int, maxWaitMilliseconds: Int) {
        guard (1...BatchItems.maxItems).contains(maxItems), (0...60_000).contains(maxWaitMilliseconds) else { return nil }
        self.maxItems = maxItems
        self.maxWaitMilliseconds = maxWaitMilliseconds
    }

    /// Parses `batch=N/T`.
    init?(parsing text: Substring) {
        guard text.hasPrefix("batch=") else { return nil }
        let numbers = text.dropFirst(6).split(separator: "/", omittingEmptySubsequences: false)
        guard numbers.count == 2, let items = Int(numbers[0]), let wait = Int(numbers[1]) else { return nil }
        self.init(maxItems: items, maxWaitMilliseconds: wait)
    }

    /// `batch=N/T`.
    public var description: String { "batch=\(maxItems)/\(maxWaitMilliseconds)" }
}

extension ServiceDescriptor: ExpressibleByStringLiteral {
    /// A descriptor written as a literal, such as `"search:0-3/16"`; the literal must be valid.
    public init(stringLiteral value: String) {
        guard let descriptor = ServiceDescriptor(parsing: value) else {
            preconditionFailure("invalid service descriptor literal '\(value)'")
        }
        self = descriptor
    }
}
