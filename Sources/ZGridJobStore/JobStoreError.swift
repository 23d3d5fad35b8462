/// Why the job store failed.
public enum JobStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The database file could not be opened, created or migrated.
    case cannotOpen(path: String, reason: String)
    /// SQLite failed a statement or a commit (disk full, I/O error, corrupt row…).
    case database(String)
    /// The store is closed.
    case closed

    /// A one-line explanation.
    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason): "cannot open job store at \(path): \(reason)"
        case .database(let message): "job store database error: \(message)"
        case .closed: "job store is closed"
        }
    }
}
