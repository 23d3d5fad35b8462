extension ShardSet {
    /// Parses the text form `"0-3/16"` or `"0,2,5-7/16"`: comma-separated indices and inclusive
    /// ranges, a slash, and the total. Whitespace is ignored.
    /// - Parameter text: The text to parse.
    /// - Returns: The shard set, or `nil` if the text is malformed or an index is not below the total.
    public static func parse(_ text: String) -> ShardSet? {
        try? parseReportingErrors(text)
    }

    /// Like ``parse(_:)`` but throws an error (with an empty `file`) saying what is wrong.
    static func parseReportingErrors(_ text: String) throws(ConfigError) -> ShardSet {
        func failure(_ reason: String) -> ConfigError {
            ConfigError(
                file: "",
                message: "expected a shard set like \"0-3/16\" or \"0,2,5-7/16\" (indices and ranges, "
                    + "then / and the total), got \(String(reflecting: text)): \(reason)"
            )
        }
        let compact = text.filter { !$0.isWhitespace }
        let halves = compact.split(separator: "/", omittingEmptySubsequences: false)
        guard halves.count == 2 else {
            throw failure(halves.count < 2 ? "missing \"/total\"" : "more than one \"/\"")
        }
        guard let total = number(halves[1]) else {
            throw failure("the total \(String(reflecting: String(halves[1]))) is not a whole number")
        }
        guard (1...maxTotal).contains(total) else {
            throw failure("the total must be from 1 to \(maxTotal)")
        }
        var indices: [Int] = []
        for item in halves[0].split(separator: ",", omittingEmptySubsequences: false) {
            guard !item.isEmpty else { throw failure("an index is missing") }
            let bounds = item.split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count <= 2, let low = number(bounds[0]),
                let high = bounds.count == 2 ? number(bounds[1]) : low
            else {
                throw failure("\(String(reflecting: String(item))) is neither an index nor a range like 5-7")
            }
            guard low <= high else { throw failure("the range \(item) runs backwards") }
            guard high < total else { throw failure("index \(high) is not below the total \(total)") }
            indices.append(contentsOf: low...high)
        }
        return ShardSet(checkedIndices: Array(Set(indices)).sorted(), total: total)
    }

    /// A non-negative decimal number of at most 9 digits, or `nil`.
    private static func number(_ text: Substring) -> Int? {
        guard (1...9).contains(text.utf8.count), text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
            return nil
        }
        return Int(text)
    }
}
