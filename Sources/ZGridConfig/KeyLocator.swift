/// Finds the line of a key or section in TOML text by a light scan, since the parsed TOML keeps no positions.
///
/// Paths are absolute key paths; an element of an array of tables is written as its name followed by
/// `#index`, so the `concurrency` key of the third `[[pool]]` is `["pool", "#2", "concurrency"]`.
/// The scan follows `[table]` and `[[array]]` headers, `key = value` lines (dotted and quoted keys too),
/// and skips the inside of strings, comments and values spanning several lines.
struct KeyLocator {
    /// A header or key and the 1-based line where it appears.
    private struct Entry {
        var path: [String]
        var line: Int
    }

    private var entries: [Entry] = []

    /// Scans `text`.
    init(text: String) {
        var scanner = Scanner()
        var lineNumber = 0
        for line in text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            if let path = scanner.scan(Array(line)) {
                entries.append(Entry(path: path, line: lineNumber))
            }
        }
    }

    /// The line of `path`; failing that, of the first key or header below it (e.g. `[broker.sub]` for
    /// `broker.sub`); failing that, the line of its closest enclosing table. `nil` if none is found.
    func line(for path: [String]) -> Int? {
        var query = path
        while !query.isEmpty {
            if let entry = entries.first(where: { $0.path == query }) ?? entries.first(where: { $0.path.starts(with: query) }) {
                return entry.line
            }
            query.removeLast()
        }
        return nil
    }
}

extension KeyLocator {
    /// The line-by-line state of the scan.
    private struct Scanner {
        /// The absolute path of the current table.
        var table: [String] = []
        /// How many elements each array of tables (by joined path) has had so far.
        var arrayCounts: [String: Int] = [:]
        /// Open `[` and `{` of a value continuing on the next line.
        var depth = 0
        /// The closing delimiter of a multi-line string continuing on the next line.
        var openString: [UInt8]?

        /// Scans one line; returns the absolute path of the header or key it starts, if any.
        mutating func scan(_ line: [UInt8]) -> [String]? {
            var index = 0
            if let delimiter = openString {
                guard let end = find(delimiter, in: line, from: 0) else { return nil }
                openString = nil
                index = end
            }
            if index > 0 || depth > 0 {
                scanValue(line, from: index)
                return nil
            }
            while index < line.count, line[index] == .space || line[index] == .tab { index += 1 }
            guard index < line.count, line[index] != .hash, line[index] != .carriageReturn else { return nil }
            if line[index] == .openBracket {
                return header(line, from: index)
            }
            guard let equals = firstUnquoted(.equals, in: line, from: index) else { return nil }
            let key = Self.keyPath(line[index..<equals])
            scanValue(line, from: equals + 1)
            return key.isEmpty ? nil : table + key
        }

        /// Handles a `[table]` or `[[array]]` header starting at `start`.
        private mutating func header(_ line: [UInt8], from start: Int) -> [String]? {
            let isArray = start + 1 < line.count && line[start + 1] == .openBracket
            let nameStart = start + (isArray ? 2 : 1)
            guard let close = firstUnquoted(.closeBracket, in: line, from: nameStart) else { return nil }
            let path = Self.keyPath(line[nameStart..<close])
            guard !path.isEmpty else { return nil }
            var absolute: [String] = []
            for (position, component) in path.enumerated() {
                absolute.append(component)
                let isLast = position == path.count - 1
                let joined = path[...position].joined(separator: ".")
                if isArray && isLast {
                    let count = arrayCounts[joined, default: 0]
                    arrayCounts[joined] = count + 1
                    absolute.append("#\(count)")
                } else if let count = arrayCounts[joined], count > 0 {
                    absolute.append("#\(count - 1)")
                }
            }
            table = absolute
            return absolute
        }

        /// Follows strings, comments and brackets of a value from `start` to the end of the line.
        private mutating func scanValue(_ line: [UInt8], from start: Int) {
            var index = start
            while index < line.count {
                let byte = line[index]
                switch byte {
                case .hash:
                    return
                case .quote, .apostrophe:
                    let triple = [byte, byte, byte]
                    if matches(triple, in: line, at: index) {
                        guard let end = find(triple, in: line, from: index + 3) else {
                            openString = triple
                            return
                        }
                        index = end
                    } else {
                        index = endOfString(line, from: index)
                    }
                    continue
                case .openBracket, .openBrace:
                    depth += 1
                case .closeBracket, .closeBrace:
                    depth = max(0, depth - 1)
                default:
                    break
                }
                index += 1
            }
        }

        /// The index after the single-line string opening at `start` (or the line's end).
        private func endOfString(_ line: [UInt8], from start: Int) -> Int {
            let quote = line[start]
            var index = start + 1
            while index < line.count {
                if quote == .quote, line[index] == .backslash {
                    index += 2
                    continue
                }
                if line[index] == quote { return index + 1 }
                index += 1
            }
            return line.count
        }

        /// The index of the first `target` outside quotes, from `start`.
        private func firstUnquoted(_ target: UInt8, in line: [UInt8], from start: Int) -> Int? {
            var index = start
            while index < line.count {
                if line[index] == target { return index }
                if line[index] == .quote || line[index] == .apostrophe {
                    index = endOfString(line, from: index)
                } else {
                    index += 1
                }
            }
            return nil
        }

        /// The index just after the first occurrence of `delimiter` from `start` that is not escaped.
        private func find(_ delimiter: [UInt8], in line: [UInt8], from start: Int) -> Int? {
            var index = start
            while index + delimiter.count <= line.count {
                if delimiter[0] == .quote, line[index] == .backslash {
                    index += 2
                    continue
                }
                if matches(delimiter, in: line, at: index) {
                    var end = index + delimiter.count
                    // A closing delimiter may be followed by up to two more quotes that belong to the string.
                    while end < line.count, line[end] == delimiter[0], end - index < delimiter.count + 2 { end += 1 }
                    return end
                }
                index += 1
            }
            return nil
        }

        private func matches(_ pattern: [UInt8], in line: [UInt8], at index: Int) -> Bool {
            index + pattern.count <= line.count && line[index..<(index + pattern.count)].elementsEqual(pattern)
        }

        /// Splits a possibly dotted, possibly quoted key into its components.
        static func keyPath(_ bytes: ArraySlice<UInt8>) -> [String] {
            var components: [String] = []
            var current: [UInt8] = []
            var quote: UInt8?
            for byte in bytes {
                if let open = quote {
                    if byte == open { quote = nil } else { current.append(byte) }
                } else if byte == .quote || byte == .apostrophe {
                    quote = byte
                } else if byte == .dot {
                    components.append(String(decoding: current, as: UTF8.self))
                    current = []
                } else if byte != .space && byte != .tab {
                    current.append(byte)
                }
            }
            components.append(String(decoding: current, as: UTF8.self))
            return components.contains(where: \.isEmpty) ? [] : components
        }
    }
}

extension UInt8 {
    fileprivate static let space = UInt8(ascii: " ")
    fileprivate static let tab = UInt8(ascii: "\t")
    fileprivate static let carriageReturn = UInt8(ascii: "\r")
    fileprivate static let hash = UInt8(ascii: "#")
    fileprivate static let quote = UInt8(ascii: "\"")
    fileprivate static let apostrophe = UInt8(ascii: "'")
    fileprivate static let backslash = UInt8(ascii: "\\")
    fileprivate static let equals = UInt8(ascii: "=")
    fileprivate static let dot = UInt8(ascii: ".")
    fileprivate static let openBracket = UInt8(ascii: "[")
    fileprivate static let closeBracket = UInt8(ascii: "]")
    fileprivate static let openBrace = UInt8(ascii: "{")
    fileprivate static let closeBrace = UInt8(ascii: "}")
}
