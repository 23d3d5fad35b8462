/// Why the job store failed.
public enum JobStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The database file could not be opened, created or migrated.
    case cannotOpen(path: String, reason: String)
    /// SQLite failed a statement or a commit (disk full, I/O error, corrupt row…).
    case database(String)
    /// The store's file was removed or replaced while the store had it open: writes would go into a
    /// file that is gone, to be lost when the process ends, so none is made.
    case fileGone(path: String, reason: String)
    /// The store is closed.
    case closed

    /// A one-line explanation.
    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason): "cannot open job store at \(path): \(reason)"
        case .database(let message): "job store database error: \(message)"
        case .fileGone(let path, let reason):
            "the job store file \(path) is gone: \(reason); nothing more can be stored in it (restart the broker once a store can be there)"
        case .closed: "job store is closed"
        }
    }
}
