import Foundation
import ZGridConfig

/// The job store's path, checked before the broker starts: a path the store could never open is a
/// mistake of the configuration or of `--job-store`, not a condition of the running grid.
enum JobStorePath {
    /// What keeps `path` from being the job store's SQLite file, or nil when it may be one: a
    /// missing directory, a directory in its place, or a directory the broker may not write (the
    /// store creates the file there, and its `-wal` and `-shm` files beside it) or a file it may
    /// not write. Whether an existing file is a database is for the store to find out.
    static func problem(with path: String) -> String? {
        var isDirectory: ObjCBool = false
        if path.hasSuffix("/") || (FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue) {
            return "\(path) is a directory, not a file"
        }
        let parent = (path as NSString).deletingLastPathComponent
        let directory = parent.isEmpty ? "." : parent
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            return "the directory \(directory) does not exist"
        }
        guard isDirectory.boolValue else { return "\(directory) is not a directory" }
        guard access(directory, W_OK | X_OK) == 0 else {
            return "the directory \(directory) is not writable (the store keeps its -wal and -shm files beside it)"
        }
        if FileManager.default.fileExists(atPath: path), access(path, R_OK | W_OK) != 0 {
            return "the file is not writable"
        }
        return nil
    }
}

extension JobsSettings {
    /// Checks that `store`, the job store of `[jobs]`, may be opened (see
    /// ``JobStorePath/problem(with:)``); an empty one turns jobs off. `configFile`, the file read
    /// when there is one, is named in the error, with the line of the key.
    func checkStore(configFile: String?) throws(ConfigError) {
        guard !store.isEmpty, let problem = JobStorePath.problem(with: store) else { return }
        let message =
            "expected the path of a SQLite file the broker can create or open (\"\" runs it without jobs), "
            + "got \(String(reflecting: store)): \(problem)"
        guard let configFile, FileManager.default.fileExists(atPath: configFile) else {
            throw ConfigError(file: "", key: "jobs.store", message: message + " (the default: set [jobs] store in cluster.conf)")
        }
        throw ConfigError.about("jobs.store", in: configFile, message)
    }
}
