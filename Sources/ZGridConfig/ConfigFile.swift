import Foundation

/// Reads configuration files from disk.
enum ConfigFile {
    /// The UTF-8 text of the file at `path`.
    /// - Throws: ``ConfigError`` if the file is missing, is a directory, cannot be read or is not UTF-8.
    static func read(path: String) throws(ConfigError) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ConfigError(file: path, message: "file not found; expected a TOML cluster configuration at this path")
        }
        guard !isDirectory.boolValue else {
            throw ConfigError(file: path, message: "is a directory; expected a TOML cluster configuration file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(file: path, message: "cannot read the file; check its permissions")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: path, message: "expected UTF-8 text, but the file holds invalid UTF-8")
        }
        return text
    }
}
