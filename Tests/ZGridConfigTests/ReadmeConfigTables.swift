import Foundation

/// The tables of the README's `## cluster.conf` section, as a user reads them: one table per
/// section (`[broker]`, `[[pool]]`…), one row per key with its default and meaning.
struct ReadmeConfigTables {
    /// One row of a key table.
    struct Row {
        /// The key, as written in its first cell (without backticks).
        var key: String
        /// The default cell, as written.
        var defaultCell: String
        /// The meaning cell, as written.
        var meaning: String
    }

    /// The rows of each section, by its header as written (`[broker]`, `[[function]]`…).
    var sections: [String: [Row]] = [:]

    /// The README at the repository root.
    static func load() throws -> ReadmeConfigTables {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return ReadmeConfigTables(text: try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8))
    }

    /// Reads the tables of the `## cluster.conf` section of `text`: a line that opens with a
    /// backticked section header starts a section, and its table's rows follow.
    init(text: String) {
        var current: String?
        var inSection = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("## ") {
                inSection = line == "## cluster.conf"
                current = nil
                continue
            }
            guard inSection else { continue }
            if line.hasPrefix("`["), let end = line.dropFirst().firstIndex(of: "`") {
                let header = String(line[line.index(after: line.startIndex)..<end])
                current = header
                sections[header, default: []] = []
                continue
            }
            guard let current, line.hasPrefix("| `") else { continue }
            let cells = Self.cells(of: line)
            guard cells.count == 3 else { continue }
            sections[current, default: []].append(
                Row(key: cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`")), defaultCell: cells[1], meaning: cells[2]))
        }
    }

    /// The cells of a table row, trimmed; `\|` inside a cell is a literal bar.
    static func cells(of line: String) -> [String] {
        let marker = "\u{0}"
        return line.replacingOccurrences(of: "\\|", with: marker)
            .split(separator: "|", omittingEmptySubsequences: false)
            .dropFirst().dropLast()
            .map { $0.replacingOccurrences(of: marker, with: "|").trimmingCharacters(in: .whitespaces) }
    }
}
