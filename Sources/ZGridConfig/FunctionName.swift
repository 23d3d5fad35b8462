/// Checks names of grid functions.
enum FunctionName {
    /// The most UTF-8 bytes a function name may have.
    static let maxBytes = 255

    /// Names starting with this prefix are reserved for broker service queries.
    static let reservedPrefix = "mmi."

    /// Returns why `name` is not a valid function name (a message saying what was expected), or `nil` if it is valid.
    static func problem(with name: String) -> String? {
        let got = "got \(String(reflecting: name))"
        let bytes = name.utf8
        guard !bytes.isEmpty else {
            return "expected a function name of 1 to \(maxBytes) characters, \(got)"
        }
        guard bytes.count <= maxBytes else {
            return "expected a function name of at most \(maxBytes) bytes, got one of \(bytes.count) bytes"
        }
        if let bad = name.unicodeScalars.first(where: { !isAllowed($0) }) {
            return "expected a function name made of A-Z a-z 0-9 . _ -, \(got) "
                + "(\(String(reflecting: String(bad))) is not allowed)"
        }
        guard !name.hasPrefix(reservedPrefix) else {
            return "expected a function name not starting with \"\(reservedPrefix)\" "
                + "(reserved for broker service queries), \(got)"
        }
        return nil
    }

    /// Whether `scalar` may appear in a function name.
    private static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "A"..."Z", "a"..."z", "0"..."9", ".", "_", "-": true
        default: false
        }
    }
}
