import Foundation

/// docs/PROTOCOL.md as a reader of the specification takes it: its sections, tables and the frame
/// counts it gives each command.
struct ProtocolDocument {
    /// The whole text.
    let text: String

    /// The document at the repository root.
    static func load() throws -> ProtocolDocument {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return ProtocolDocument(text: try String(contentsOf: root.appendingPathComponent("docs/PROTOCOL.md"), encoding: .utf8))
    }

    /// The text from the heading line `heading` (such as `## ZGW01: the Worker Protocol`) to the
    /// next heading of the same or a higher level; empty when there is none.
    func section(_ heading: String) -> String {
        let level = heading.prefix { $0 == "#" }.count
        var lines: [Substring] = []
        var inside = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if inside, line.hasPrefix("#") {
                let lineLevel = line.prefix { $0 == "#" }.count
                if lineLevel <= level, line.dropFirst(lineLevel).hasPrefix(" ") { break }
            }
            if line == heading { inside = true }
            if inside { lines.append(line) }
        }
        return lines.joined(separator: "\n")
    }

    /// The rows of the first table in `text` whose header row starts with `firstColumn`, as cells
    /// (trimmed, without the header and separator rows).
    static func table(in text: String, firstColumn: String) -> [[String]] {
        var rows: [[String]] = []
        var inTable = false
        for line in text.split(separator: "\n").map(String.init) {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
                .map { $0.trimmingCharacters(in: .whitespaces) }
            guard line.hasPrefix("|") else {
                if inTable { break }
                continue
            }
            if !inTable {
                inTable = cells.first == firstColumn
                continue
            }
            if cells.allSatisfy({ $0.allSatisfy { $0 == "-" } }) { continue }
            rows.append(cells)
        }
        return rows
    }

    /// A command's frame count as its definition states it.
    struct FrameCount: Equatable, CustomStringConvertible {
        /// The fewest frames.
        var low: Int
        /// The most frames, when the definition bounds them.
        var high: Int?

        var description: String { high.map { $0 == low ? "exactly \(low)" : "\(low) or \($0)" } ?? "\(low) or more" }
    }

    /// The frame count of command `name` in `text` (one sub-protocol's section), from its
    /// definition `**NAME**: 5 or more frames`, `exactly 3 frames`, `5 or 6 frames` or `3 frames`
    /// (a fewest only).
    static func frameCount(of name: String, in text: String) -> FrameCount? {
        // HEARTBEAT and DISCONNECT share one definition: `**HEARTBEAT** and **DISCONNECT**: 2 frames`.
        guard
            let start = text.range(of: "\n**\(name)**: ") ?? text.range(of: " and **\(name)**: ")
                ?? text.firstMatch(of: try! Regex("\n\\*\\*\(name)\\*\\* and \\*\\*[A-Z-]+\\*\\*: "))?.range
        else { return nil }
        let sentence = text[start.upperBound...].prefix { $0 != "\n" }
        if let match = sentence.firstMatch(of: /^exactly (\d+) frames/) { return FrameCount(low: Int(match.1)!, high: Int(match.1)!) }
        if let match = sentence.firstMatch(of: /^(\d+) or more frames/) { return FrameCount(low: Int(match.1)!) }
        if let match = sentence.firstMatch(of: /^(\d+) or (\d+) frames/) { return FrameCount(low: Int(match.1)!, high: Int(match.2)!) }
        if let match = sentence.firstMatch(of: /^(\d+) frames/) { return FrameCount(low: Int(match.1)!) }
        return nil
    }
}
