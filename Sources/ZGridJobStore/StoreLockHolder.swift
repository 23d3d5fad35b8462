import Foundation

/// Finds which process holds the `flock` lock of a store's file, to name it when a second broker
/// is refused: Linux lists every lock, with its holder's process id, in `/proc/locks`.
enum StoreLockHolder {
    /// "process 1234 (zgrid broker --config …)" for the process holding an exclusive `flock` on the
    /// file open on `descriptor`; nil when none is found (no `/proc/locks`, as on macOS, or a holder
    /// in another PID namespace).
    static func describe(lockOn descriptor: Int32) -> String? {
        guard let file = StoreFileCheck.identity(ofDescriptor: descriptor),
            let pid = holder(of: file, in: (try? String(contentsOfFile: "/proc/locks", encoding: .utf8)) ?? "")
        else { return nil }
        let command = commandLine(of: pid)
        return command.isEmpty ? "process \(pid)" : "process \(pid) (\(command))"
    }

    /// The process id of the holder of an exclusive `flock` on `file` in `locks` (the text of
    /// `/proc/locks`: `1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF`, device numbers in hex).
    static func holder(of file: StoreFileCheck.FileIdentity, in locks: String) -> Int32? {
        for line in locks.split(separator: "\n") where !line.contains("->") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[1] == "FLOCK", fields[3] == "WRITE", let pid = Int32(fields[4]) else { continue }
            let device = fields[5].split(separator: ":")
            guard device.count == 3, UInt64(device[2]) == file.inode,
                let major = UInt64(device[0], radix: 16), let minor = UInt64(device[1], radix: 16),
                major == deviceMajor(file.device), minor == deviceMinor(file.device)
            else { continue }
            return pid
        }
        return nil
    }

    /// The major number of a device number, as glibc's `major()` computes it.
    private static func deviceMajor(_ device: UInt64) -> UInt64 {
        ((device >> 8) & 0xfff) | ((device >> 32) & ~UInt64(0xfff))
    }

    /// The minor number of a device number, as glibc's `minor()` computes it.
    private static func deviceMinor(_ device: UInt64) -> UInt64 {
        (device & 0xff) | ((device >> 12) & ~UInt64(0xff))
    }

    /// The command line of process `pid`, its arguments joined by spaces and cut at 200
    /// characters; empty when it cannot be read.
    private static func commandLine(of pid: Int32) -> String {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return "" }
        let arguments = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        let command = arguments.enumerated().map { $0.offset == 0 ? ($0.element as NSString).lastPathComponent : $0.element }
            .joined(separator: " ")
        return command.count > 200 ? String(command.prefix(200)) + "…" : command
    }
}
