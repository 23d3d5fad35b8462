/// How a job's tags are kept in the one `tags` column: joined with commas.
enum TagsColumn {
    /// The column value of `tags`; the empty string for no tags.
    static func join(_ tags: [String]) -> String {
        tags.joined(separator: ",")
    }

    /// The tags of a column value.
    static func split(_ column: String) -> [String] {
        column.isEmpty ? [] : column.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    }

    /// A condition on the `tags` column, true when `tag` is one of the tags exactly (case-sensitive,
    /// no wildcards); its one argument is the tag.
    static let containsCondition = "instr(',' || tags || ',', ',' || ? || ',') > 0"

    /// Whether a job can carry `tag`: an empty tag, or one with a comma, is no tag, and
    /// ``containsCondition`` would match it against jobs without tags or with two adjacent tags.
    static func canHold(_ tag: String) -> Bool {
        !tag.isEmpty && !tag.contains(",")
    }
}
