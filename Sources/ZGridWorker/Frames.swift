import ZeroMQ

/// The payload frames of a request, or the frames of a result: nearly always one, kept without an
/// array around it (which would cost an allocation per request).
enum Frames: Sendable {
    /// A single frame.
    case one([UInt8])
    /// Several frames (or none).
    case many([[UInt8]])

    /// Copies the frames `range` of `message`.
    init(_ message: Multipart, _ range: Range<Int>) {
        self = range.count == 1 ? .one(message.bytes(range.lowerBound)) : .many(range.map { message.bytes($0) })
    }

    /// Every frame, in order.
    var all: [[UInt8]] {
        switch self {
        case .one(let frame): [frame]
        case .many(let frames): frames
        }
    }

    /// The size of the largest frame, in bytes (0 for none).
    var largestCount: Int {
        switch self {
        case .one(let frame): frame.count
        case .many(let frames): frames.lazy.map(\.count).max() ?? 0
        }
    }

    /// The frames joined into one byte array.
    var joined: [UInt8] {
        switch self {
        case .one(let frame): frame
        case .many(let frames): frames.count == 1 ? frames[0] : frames.flatMap { $0 }
        }
    }
}
