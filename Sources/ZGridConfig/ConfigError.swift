/// An error found while reading or validating a cluster configuration.
///
/// Every error names the file and, when known, the 1-based line and the dotted key
/// (for example `broker.heartbeat_ms` or `pool[2].concurrency`, pools counted from 0)
/// together with a message saying what was wrong and what was expected.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file the configuration came from (the `file` argument of ``ClusterConfig/parse(_:file:)``
    /// or the path given to ``ClusterConfig/load(path:)``). Empty for errors not tied to a file.
    public var file: String
    /// The 1-based line of the offending key or section, when known.
    public var line: Int?
    /// The dotted key the error is about, e.g. `broker.heartbeat_ms` or `pool[2].concurrency`.
    public var key: String?
    /// What was wrong and what was expected, e.g. `expected an integer from 10 to 60000, got "fast"`.
    public var message: String

    /// Creates an error.
    /// - Parameters:
    ///   - file: The file the configuration came from.
    ///   - line: The 1-based line of the offending key or section, if known.
    ///   - key: The dotted key the error is about, if any.
    ///   - message: What was wrong and what was expected.
    public init(file: String, line: Int? = nil, key: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    /// The error as one line: `file:line: key: message`, leaving out the parts that are unknown,
    /// e.g. `cluster.conf:12: broker.heartbeat_ms: expected an integer from 10 to 60000, got "fast"`.
    public var description: String {
        var location = file
        if let line {
            location = location.isEmpty ? "line \(line)" : "\(location):\(line)"
        }
        return [location, key ?? "", message].filter { !$0.isEmpty }.joined(separator: ": ")
    }
}
