import ZeroMQ

/// What a worker's READY says, with the RESUMING capability, about the earlier session of its own
/// that it resumes: the routing identity it had then, and the dispatch ids of that session's
/// requests it still runs, or whose answers it sends again on the new session.
public struct SessionResume: Sendable, Equatable {
    /// The worker's routing identity in its earlier session.
    public let previous: PeerID
    /// The dispatch ids of the earlier session the worker still runs or answers again.
    public let running: [UInt64]

    /// The lowest dispatch id no broker gives (2^63): a broker counts up from 1. A broker does not
    /// count on from a listed id at or above it.
    public static let firstUnusedID: UInt64 = 1 << 63

    /// The most bytes of a routing identity (libzmq's limit).
    public static let maxIdentityBytes = 255

    /// The most dispatch ids a READY announcing `concurrency` may list: twice its concurrency. A
    /// worker lists the requests it ran when it last heard the broker, at most its concurrency.
    public static func maxListed(concurrency: Int) -> Int { 2 * concurrency }

    /// A resume of the session `previous`, with the requests still `running`.
    public init(previous: PeerID, running: [UInt64]) {
        self.previous = previous
        self.running = running
    }

    /// READY's two resume frames: the earlier routing identity (`previous`, its bytes), then the
    /// dispatch ids, 8 bytes each.
    public static func frames(previous: [UInt8], running: [UInt64]) -> [[UInt8]] {
        var ids: [UInt8] = []
        ids.reserveCapacity(8 * running.count)
        for id in running { ids.appendBigEndian(id) }
        return [previous, ids]
    }

    /// Decodes the resume frames at `index` and `index + 1` of `message`: nil when the identity
    /// is empty or longer than 255 bytes, or the ids frame is not a whole number of 8-byte ids, or
    /// holds more than `maxListed`.
    static func decode(_ message: Multipart, at index: Int, maxListed: Int) -> SessionResume? {
        let size = message.size(index)
        let idBytes = message.size(index + 1)
        guard size >= 1, size <= maxIdentityBytes, idBytes % 8 == 0, idBytes / 8 <= maxListed else { return nil }
        let previous = message.withBytes(index) { PeerID($0) }
        let running = message.withBytes(index + 1) { raw in stride(from: 0, to: raw.count, by: 8).map { raw.readBigEndianUInt64(at: $0) } }
        return SessionResume(previous: previous, running: running)
    }
}
