import Foundation

/// Writing to standard error.
enum FileOutput {
    /// Writes one line to standard error.
    static func standardError(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
