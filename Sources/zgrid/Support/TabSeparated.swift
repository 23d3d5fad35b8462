/// Lines of tab-separated fields, such as `zgrid jobs list` prints: one record per line whatever
/// its text holds.
enum TabSeparated {
    /// `fields` joined by tabs, each with its backslashes, tabs, newlines and other control
    /// characters escaped (`\\`, `\t`, `\n`, `\r`, `\xNN`), so that a handler's multi-line error or
    /// a tag with a tab stays within its field and its line.
    static func line(_ fields: [String]) -> String {
        fields.map(escaped).joined(separator: "\t")
    }

    /// `text` with backslashes and control characters escaped.
    static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": result += "\\\\"
            case "\t": result += "\\t"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case _ where needsEscape(scalar):
                let hex = String(scalar.value, radix: 16, uppercase: true)
                result += "\\x" + (hex.count < 2 ? "0" + hex : hex)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// Whether `scalar` is written escaped: a backslash or an ASCII control character.
    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "\\" || scalar.value < 0x20 || scalar.value == 0x7F
    }
}
