/// Rules for job tags: up to 16, each 1 to 64 characters without commas, sent comma-separated.
public enum JobTags {
    /// The most tags one job carries.
    public static let maxCount = 16
    /// The longest tag, in bytes.
    public static let maxLength = 64

    /// Whether `tags` are valid.
    public static func isValid(_ tags: [String]) -> Bool {
        tags.count <= maxCount && tags.allSatisfy { !$0.isEmpty && $0.utf8.count <= maxLength && !$0.contains(",") }
    }

    /// The wire form: comma-separated.
    public static func encode(_ tags: [String]) -> String { tags.joined(separator: ",") }

    /// Reads the wire form; nil when it breaks the rules.
    public static func parse(_ text: String) -> [String]? {
        let tags = text.isEmpty ? [] : text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        return isValid(tags) ? tags : nil
    }
}
