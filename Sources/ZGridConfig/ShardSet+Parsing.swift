import ZGridProtocol

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
        switch ShardSpec.parse(text) {
        case .success(let spec): return ShardSet(checkedIndices: spec.indices, total: spec.total)
        case .failure(let error): throw failure(error.reason)
        }
    }
}
