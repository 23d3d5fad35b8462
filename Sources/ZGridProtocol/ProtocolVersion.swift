import ZeroMQ

/// Tells a peer that speaks another version of a sub-protocol from one that sends garbage, so
/// that a version mismatch is reported as such instead of as silence.
///
/// A tag of another version has the sub-protocol's letters and two other digits (`ZGC02` for
/// `ZGC01`). A message under such a tag is malformed to this version; the broker answers it all
/// the same, in its own version (see Handling of Bad Input in docs/PROTOCOL.md), and a client or
/// worker that receives one knows its broker speaks another version.
public enum ProtocolVersion {
    /// The tag in frame `index` of `message` when it is that of another version of the
    /// sub-protocol whose tag is `ours`; nil when it is `ours` or not such a tag.
    public static func otherVersion(of ours: [UInt8], in message: Multipart, at index: Int) -> String? {
        guard index < message.count else { return nil }
        return message.withBytes(index) { raw -> String? in
            guard raw.count == ours.count, raw.count > 2, !raw.elementsEqual(ours) else { return nil }
            let digits = ours.count - 2
            guard raw.prefix(digits).elementsEqual(ours.prefix(digits)) else { return nil }
            guard raw.suffix(2).allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return nil }
            return String(decoding: raw, as: UTF8.self)
        }
    }

    /// Why a `peer` ("broker", "client" or "worker") and this `side` do not understand each
    /// other: the peer speaks `theirs`, this side `ours`.
    public static func mismatch(peer: String, speaks theirs: String, side: String, ours: [UInt8]) -> String {
        "the \(peer) speaks \(theirs) and this \(side) \(String(decoding: ours, as: UTF8.self)), two versions of the ZGrid protocol: "
            + "run the same version at both ends"
    }
}
