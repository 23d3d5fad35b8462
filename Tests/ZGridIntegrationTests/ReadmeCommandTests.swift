import Foundation
import Testing

/// The README's table of `zgrid` commands against the commands' own `--help`: every subcommand
/// has a row, and every flag it takes is in its row (or, for the flags every command shares, in
/// the paragraph after the table), and every flag a row names is real.
@Suite("The README's zgrid commands")
struct ReadmeCommandTests {
    /// The README's text.
    private static func readme() throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
    }

    /// The rows of the table in the README's `## The `zgrid` command` section.
    private static func rows(of readme: String) -> [String] {
        guard let start = readme.range(of: "## The `zgrid` command\n") else { return [] }
        return readme[start.upperBound...].split(separator: "\n").drop { !$0.hasPrefix("|") }.prefix { $0.hasPrefix("|") }
            .map(String.init).filter { $0.hasPrefix("| `zgrid") }
    }

    /// The commands a row is about: `zgrid jobs list\|show` is about `jobs list` and `jobs show`.
    private static func paths(of row: String) -> [[String]] {
        let cell = row.dropFirst(3).prefix { $0 != "`" }.replacingOccurrences(of: "\\|", with: "|")
        let words = cell.split(separator: " ").dropFirst().prefix { word in
            !word.hasPrefix("-") && !word.hasPrefix("[") && word.first.map { !$0.isUppercase } ?? false
        }
        guard let last = words.last else { return [] }
        return last.split(separator: "|").map { words.dropLast().map(String.init) + [String($0)] }
    }

    /// The paragraph after that table: what every command takes.
    private static func sharedOptionsParagraph(of readme: String) -> String {
        guard let start = readme.range(of: "Every command but `keygen`") else { return "" }
        return String(readme[start.lowerBound...].prefix { $0 != "#" })
    }

    /// The `--flags` named in `text`.
    private static func flags(in text: String) -> Set<String> {
        Set(text.matches(of: /--[a-z][a-z0-9-]*/).map { String($0.output) })
    }

    /// The flags of `zgrid` followed by `path` and of its subcommands, from `--help`, by command.
    private static func commands(_ path: [String], in directory: TemporaryDirectory) async throws -> [[String]: Set<String>] {
        let run = try await runZGrid(path + ["--help"], in: directory)
        #expect(run.status == 0, "zgrid \(path.joined(separator: " ")) --help: \(run)")
        let sections = run.output.components(separatedBy: "\n\n")
        let subcommands =
            sections.first { $0.hasPrefix("SUBCOMMANDS:") }?.split(separator: "\n").dropFirst()
            .compactMap { $0.firstMatch(of: /^  ([a-z]+)(?: |$)/).map { String($0.output.1) } } ?? []
        guard subcommands.isEmpty || path.count >= 2 else {
            var all: [[String]: Set<String>] = [:]
            for name in subcommands where name != "help" {
                all.merge(try await commands(path + [name], in: directory)) { first, _ in first }
            }
            return all
        }
        // An option line: two spaces, its names and value (`--seed <seed>`, `-h, --help`), two
        // spaces, its help (which may name other flags).
        let optionLines = sections.filter { $0.hasPrefix("OPTIONS:") }.flatMap { $0.split(separator: "\n") }.filter { $0.hasPrefix("  -") }
        let taken = optionLines.flatMap { flags(in: String($0.dropFirst(2)).components(separatedBy: "  ")[0]) }
        return [path: Set(taken).subtracting(["--help", "--version"])]
    }

    @Test("every subcommand has a row naming every flag it takes, and every flag a row names is taken")
    func everyFlag() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let readme = try Self.readme()
        let shared = Self.flags(in: Self.sharedOptionsParagraph(of: readme))
        #expect(shared.isSuperset(of: ["--config", "--log-level", "--connect"]), "\(shared)")
        let commands = try await Self.commands([], in: directory)
        #expect(commands.count > 20, "\(commands.keys)")
        var named: [[String]: Set<String>] = [:]
        for row in Self.rows(of: readme) {
            let paths = Self.paths(of: row)
            #expect(!paths.isEmpty, "a README row names no command: \(row.prefix(60))")
            let flags = Self.flags(in: row)
            for path in paths { named[path, default: []].formUnion(flags) }
            let taken = paths.reduce(into: Set<String>()) { $0.formUnion(commands[$1] ?? []) }
            #expect(
                flags.isSubset(of: taken),
                "the README row of zgrid \(paths[0].joined(separator: " ")) names \(flags.subtracting(taken).sorted()), which it does not take"
            )
        }
        #expect(
            Set(named.keys) == Set(commands.keys), "commands and README rows differ: \(Set(named.keys).symmetricDifference(commands.keys))")
        for (path, taken) in commands {
            let missing = taken.subtracting(named[path] ?? []).subtracting(shared)
            #expect(missing.isEmpty, "zgrid \(path.joined(separator: " ")) takes \(missing.sorted()), which its README row does not name")
        }
    }
}
