import TOMLKit

/// Where a table sits in the configuration, for error messages.
struct TableLocation {
    /// The dotted name shown in errors, e.g. `broker` or `pool[2]`.
    var display: String
    /// The path used to find lines with ``KeyLocator``, e.g. `["pool", "#2"]`.
    var path: [String]

    /// The `[broker]` table.
    static let broker = TableLocation(display: "broker", path: ["broker"])
    /// The `[jobs]` table.
    static let jobs = TableLocation(display: "jobs", path: ["jobs"])
    /// The `[shedding]` table.
    static let shedding = TableLocation(display: "shedding", path: ["shedding"])
    /// The `[[function]]` table at `index` (counted from 0).
    static func function(_ index: Int) -> TableLocation {
        TableLocation(display: "function[\(index)]", path: ["function", "#\(index)"])
    }
    /// The `[events]` table.
    static let events = TableLocation(display: "events", path: ["events"])
    /// The `[security]` table.
    static let security = TableLocation(display: "security", path: ["security"])

    /// The `[[schedule]]` table at `index` (counted from 0).
    static func schedule(_ index: Int) -> TableLocation {
        TableLocation(display: "schedule[\(index)]", path: ["schedule", "#\(index)"])
    }

    /// The `[[pool]]` table at `index` (counted from 0).
    static func pool(_ index: Int) -> TableLocation {
        TableLocation(display: "pool[\(index)]", path: ["pool", "#\(index)"])
    }
}

/// Reads typed values from one TOML table, turning every problem into a ``ConfigError`` that names
/// the file, line and dotted key.
struct TableReader {
    /// The table read.
    var table: TOMLTable
    /// Where the table sits.
    var location: TableLocation
    /// The file name used in errors.
    var file: String
    /// Finds lines of keys.
    var locator: KeyLocator

    /// An error about `key` (or about the table itself if `key` is `nil`); `element` names an array element.
    func error(_ key: String?, element: Int? = nil, _ message: String) -> ConfigError {
        guard let key else {
            return ConfigError(file: file, line: locator.line(for: location.path), key: location.display, message: message)
        }
        let shown = "\(location.display).\(key)" + (element.map { "[\($0)]" } ?? "")
        return ConfigError(file: file, line: locator.line(for: location.path + [key]), key: shown, message: message)
    }

    /// The line of `key` in this table (or of the table if the key is not found).
    func line(of key: String) -> Int? {
        locator.line(for: location.path + [key])
    }

    /// Throws for the first key (in file order) that is not in `known`, suggesting a close known key.
    func rejectUnknownKeys(known: [String]) throws(ConfigError) {
        let unknown = table.keys.filter { !known.contains($0) }
            .sorted { (line(of: $0) ?? .max, $0) < (line(of: $1) ?? .max, $1) }
        guard let key = unknown.first else { return }
        let hint = Suggestion.closest(to: key, among: known).map { " (did you mean \"\($0)\"?)" } ?? ""
        throw error(key, "unknown key \(String(reflecting: key))\(hint); expected one of: \(known.joined(separator: ", "))")
    }

    /// The integer at `key`, `defaultValue` if absent; throws if it is not an integer within `range`.
    func int(_ key: String, default defaultValue: Int, in range: ClosedRange<Int>? = nil) throws(ConfigError) -> Int {
        guard let value = table[key] else { return defaultValue }
        let expected = range.map { "an integer from \($0.lowerBound) to \($0.upperBound)" } ?? "an integer"
        guard let number = value.int, range?.contains(number) ?? true else {
            throw error(key, "expected \(expected), got \(ValueDescription.of(value))")
        }
        return number
    }

    /// The integer at `key`, `nil` if absent; throws if it is not an integer within `range`.
    func optionalInt(_ key: String, in range: ClosedRange<Int>) throws(ConfigError) -> Int? {
        guard table[key] != nil else { return nil }
        return try int(key, default: 0, in: range)
    }

    /// The string at `key`, `nil` if absent; throws if it is not a string (`expected` describes what is wanted).
    func string(_ key: String, expected: String) throws(ConfigError) -> String? {
        guard let value = table[key] else { return nil }
        guard let text = value.string else {
            throw error(key, "expected \(expected), got \(ValueDescription.of(value))")
        }
        return text
    }

    /// The array of strings at `key`, `nil` if absent; throws if it is not an array of strings.
    func stringArray(_ key: String, expected: String) throws(ConfigError) -> [String]? {
        guard let value = table[key] else { return nil }
        guard let array = value.array else {
            throw error(key, "expected \(expected), got \(ValueDescription.of(value))")
        }
        var strings: [String] = []
        for (index, element) in array.enumerated() {
            guard let text = element.string else {
                throw error(key, element: index, "expected \(expected), got an array holding \(ValueDescription.of(element))")
            }
            strings.append(text)
        }
        return strings
    }

    /// The boolean at `key`, `nil` if absent; throws if it is not a boolean.
    func bool(_ key: String, expected: String) throws(ConfigError) -> Bool? {
        guard let value = table[key] else { return nil }
        guard let flag = value.bool else { throw error(key, "expected \(expected), got \(ValueDescription.of(value))") }
        return flag
    }

    /// Throws a "missing required key" error for `key`.
    func missing(_ key: String, expected: String) -> ConfigError {
        error(key, "missing required key \(String(reflecting: key)); expected \(expected)")
    }
}
