import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes files only their owner may read, such as key files holding a secret key.
public enum PrivateFile {
    /// Writes `text` to `path`, replacing a file there: into a new file beside it created with mode
    /// 0600 from the first byte (never readable by group or others, not even for a moment), synced,
    /// then renamed over `path`. Throws the reason, as a sentence, when it cannot.
    public static func write(_ text: String, to path: String) throws(PrivateFileError) {
        let directory = (path as NSString).deletingLastPathComponent
        let temporary =
            (directory.isEmpty ? "" : directory + "/") + ".\((path as NSString).lastPathComponent).\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw PrivateFileError(path: path, reason: String(cString: strerror(errno))) }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { writeBytes(descriptor, $0.baseAddress! + written, $0.count - written) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            written += count
        }
        let synced = written == bytes.count && fsync(descriptor) == 0
        let reason = String(cString: strerror(errno))
        close(descriptor)
        guard synced, rename(temporary, path) == 0 else {
            let failure = synced ? String(cString: strerror(errno)) : reason
            unlink(temporary)
            throw PrivateFileError(path: path, reason: failure)
        }
    }
}

/// Why ``PrivateFile/write(_:to:)`` could not write a file.
public struct PrivateFileError: Error, Equatable, CustomStringConvertible {
    /// The file it was to write.
    public let path: String
    /// What the system said.
    public let reason: String

    /// One line naming the file and the reason.
    public var description: String { "cannot write \(path): \(reason)" }
}

/// The system's `write(2)` (the name is taken inside ``PrivateFile``).
private func writeBytes(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}
