extension ConfigError {
    /// An error about `key` (dotted, such as `security.worker_keys`) of the configuration file at
    /// `file`, found after the file was loaded: with the line of the key, or failing that of its
    /// table, when the file can still be read.
    public static func about(_ key: String, in file: String, _ message: String) -> ConfigError {
        let text = try? ConfigFile.read(path: file)
        let line = text.flatMap { KeyLocator(text: $0).line(for: key.split(separator: ".").map(String.init)) }
        return ConfigError(file: file, line: line, key: key, message: message)
    }
}
