import Foundation
import Testing

@testable import ZGridConfig

/// One section of `cluster.conf` as the reader takes it: its header, its keys, and the keys a
/// table of it needs with a valid value each.
struct ConfigSection: CustomStringConvertible, Sendable {
    /// The header as written in the file and the README, such as `[broker]` or `[[pool]]`.
    var header: String
    /// The keys the reader accepts in it.
    var knownKeys: [String]
    /// Each required key with a valid TOML value, in file order.
    var required: [(key: String, value: String)] = []

    var description: String { header }

    /// The text of a table of this section with its required keys, but `omitting` one, and
    /// `extra` lines after them.
    func text(omitting omitted: String? = nil, _ extra: String = "") -> String {
        ([header] + required.filter { $0.key != omitted }.map { "\($0.key) = \($0.value)" } + [extra]).joined(separator: "\n") + "\n"
    }

    /// Every section the reader accepts.
    static let all: [ConfigSection] = [
        ConfigSection(header: "[broker]", knownKeys: BrokerSettings.knownKeys),
        ConfigSection(header: "[jobs]", knownKeys: JobsSettings.knownKeys),
        ConfigSection(header: "[[function]]", knownKeys: FunctionSettings.knownKeys, required: [("name", "\"f\"")]),
        ConfigSection(header: "[shedding]", knownKeys: SheddingSettings.knownKeys),
        ConfigSection(header: "[events]", knownKeys: EventsSettings.knownKeys),
        ConfigSection(
            header: "[[schedule]]", knownKeys: ScheduleSettings.knownKeys,
            required: [("name", "\"s\""), ("cron", "\"0 3 * * *\""), ("function", "\"f\"")]),
        ConfigSection(header: "[[pool]]", knownKeys: PoolSettings.knownKeys, required: [("name", "\"p\""), ("functions", "[\"echo\"]")]),
        ConfigSection(header: "[security]", knownKeys: SecuritySettings.knownKeys),
    ]
}

/// The README's `cluster.conf` tables against the configuration reader: the same sections and
/// keys, the defaults the reader applies, and the ranges it accepts.
@Suite("The README's cluster.conf tables")
struct ReadmeConfigTests {
    /// The README's rows of `section`.
    private func rows(_ section: ConfigSection) throws -> [ReadmeConfigTables.Row] {
        try #require(try ReadmeConfigTables.load().sections[section.header], "the README has no table for \(section.header)")
    }

    @Test("have a table for every section the reader accepts, and for no other")
    func sections() throws {
        let documented = Set(try ReadmeConfigTables.load().sections.keys)
        #expect(documented == Set(ConfigDecoder.knownSections.values))
        #expect(Set(ConfigSection.all.map(\.header)) == Set(ConfigDecoder.knownSections.values))
    }

    @Test("list every key the reader accepts, and only those", arguments: ConfigSection.all)
    func keys(_ section: ConfigSection) throws {
        let documented = try rows(section).map(\.key)
        #expect(Set(documented) == Set(section.knownKeys), "\(section.header)")
        #expect(documented.count == Set(documented).count, "\(section.header) lists a key twice")
    }

    @Test("give the default the reader applies", arguments: ConfigSection.all)
    func defaults(_ section: ConfigSection) throws {
        let defaults = try ClusterConfig.parse(section.text())
        for row in try rows(section) {
            switch ReadmeDefault(cell: row.defaultCell) {
            case .required:
                #expect(section.required.contains { $0.key == row.key }, "\(section.header) \(row.key) is documented as required")
                let error = try #require(parseError(section.text(omitting: row.key)))
                #expect(error.key?.hasSuffix(".\(row.key)") == true, "\(error)")
            case .literal(let value):
                #expect(
                    try ClusterConfig.parse(section.text("\(row.key) = \(value)")) == defaults,
                    "\(section.header) \(row.key): the README gives the default \(row.defaultCell), which is not the reader's")
            case .described:
                // A default in words (none, derived from another key): the key may be left out.
                #expect(!section.required.contains { $0.key == row.key }, "\(section.header) \(row.key) is required")
            }
        }
    }

    @Test("state the range of every integer key", arguments: ConfigSection.all)
    func ranges(_ section: ConfigSection) throws {
        for row in try rows(section) {
            let wrongType: ConfigError?
            do {
                _ = try ClusterConfig.parse(section.text("\(row.key) = \"not-a-number\""))
                wrongType = nil
            } catch { wrongType = error }
            guard let message = wrongType?.message, message.hasPrefix("expected an integer") else { continue }
            let documented = (row.defaultCell + " " + row.meaning).replacingOccurrences(
                of: #"(?<=\d),(?=\d{3})"#, with: "", options: .regularExpression)
            guard let range = IntegerRange(message: message) else {
                #expect(documented.contains("any integer"), "\(section.header) \(row.key) takes any integer: the README should say so")
                continue
            }
            #expect(
                range.spellings.contains { documented.contains($0) },
                "\(section.header) \(row.key) takes \(range.low) to \(range.high): the README should say \(range.spellings[0])")
            #expect(throws: ConfigError.self) { try ClusterConfig.parse(section.text("\(row.key) = \(range.low - 1)")) }
            #expect(throws: ConfigError.self) { try ClusterConfig.parse(section.text("\(row.key) = \(range.high + 1)")) }
        }
    }
}

/// What a README table says of a key's default.
enum ReadmeDefault: Equatable {
    /// The key must be given.
    case required
    /// A TOML value: the reader's default.
    case literal(String)
    /// A default in words, such as "none" or "first `bind`, with …".
    case described

    /// Reads a default cell: `required`; a number or `true`/`false` (maybe followed by words in
    /// parentheses); a backticked TOML value, such as `` `"latest"` `` or `` `["tcp://…"]` ``, or
    /// backticked bare text, such as `` `info` ``, a string; anything else is described.
    init(cell: String) {
        if cell == "required" {
            self = .required
        } else if let match = cell.firstMatch(of: /^(-?\d+|true|false)(\s+\(.*\))?$/) {
            self = .literal(String(match.1))
        } else if let match = cell.firstMatch(of: /^`([^`]+)`(\s+\(.*\))?$/) {
            let value = String(match.1)
            if value.firstMatch(of: /^[A-Za-z0-9._\/-]+$/) != nil, Int(value) == nil, value != "true", value != "false" {
                self = .literal("\"\(value)\"")
            } else if value.hasPrefix("\"") || value.hasPrefix("[\"") || value == "[]" {
                self = .literal(value)
            } else {
                self = .described
            }
        } else {
            self = .described
        }
    }
}

/// The range in a reader's "expected an integer from A to B" error.
struct IntegerRange {
    /// The smallest value accepted.
    var low: Int
    /// The largest value accepted.
    var high: Int

    /// The range named in `message`, or nil when it names none.
    init?(message: String) {
        guard let match = message.firstMatch(of: /an integer from (-?\d+) to (-?\d+)/), let low = Int(match.1), let high = Int(match.2)
        else {
            return nil
        }
        self.low = low
        self.high = high
    }

    /// How the README may write it: `A–B` or `A to B`.
    var spellings: [String] { ["\(low)–\(high)", "\(low) to \(high)"] }
}
