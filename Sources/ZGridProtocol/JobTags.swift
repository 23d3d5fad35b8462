/// Rules for job tags: up to 16, each 1 to 64 characters without commas, sent comma-separated.
public enum JobTags {
    /// The most tags one job carries.
    public static let maxCount = 16
    /// The longest tag, in bytes.
    public static let maxLength = 64

    /// Whether `tags` are valid.
    public static func isValid(_ tags: [String]) -> Bool {
        tags.count <= maxCount
            && tags.allSatisfy { tag in
                let bytes = tag.utf8
                return !bytes.isEmpty && bytes.count <= maxLength && !bytes.contains(UInt8(ascii: ","))
            }
    }

    /// The wire form: comma-separated.
    public static func encode(_ tags: [String]) -> String { tags.joined(separator: ",") }

    /// Reads the wire form; nil when it breaks the rules.
    public static func parse(_ text: String) -> [String]? {
        guard !text.isEmpty else { return [] }
        let bytes = text.utf8
        guard bytes.contains(UInt8(ascii: ",")) else {
            return bytes.count <= maxLength ? [text] : nil  // one tag: the common case, without splitting
        }
        let tags = bytes.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        return isValid(tags) ? tags : nil
    }
}
