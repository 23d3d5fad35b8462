#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Checks, before each commit, that the store's path still names the file the store has open, and
/// its `-wal` file the one SQLite commits into.
///
/// A store file removed (its directory deleted, say) or replaced while the broker runs stays open:
/// SQLite goes on committing into the unlinked file, and everything committed so is lost with it
/// when the process ends. So are the commits not yet copied back from a `-wal` file removed
/// alone. The check turns that into a failed commit, so no submit is acknowledged into a file
/// that is gone.
struct StoreFileCheck: Sendable {
    /// The store's path.
    let path: String
    /// The device and inode of the file the store opened.
    let identity: FileIdentity
    /// The device and inode of its `-wal` file when the store opened it (nil when there was none).
    let walIdentity: FileIdentity?

    /// A check of the store at `path`, whose file is `identity`; its `-wal` file is looked up now.
    init(path: String, identity: FileIdentity) {
        self.path = path
        self.identity = identity
        walIdentity = Self.identity(of: path + "-wal")
    }

    /// A device and inode pair: which file a path or a descriptor names.
    struct FileIdentity: Sendable, Equatable {
        let device: UInt64
        let inode: UInt64
    }

    /// The identity of the file at `path`; nil when there is none (or it cannot be looked up).
    static func identity(of path: String) -> FileIdentity? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    /// The identity of the file open on `descriptor`; nil when it cannot be looked up.
    static func identity(ofDescriptor descriptor: Int32) -> FileIdentity? {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return nil }
        return FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }

    /// Fails with `.fileGone` when `path` no longer names the store's file.
    func verify() throws(JobStoreError) {
        guard let current = Self.identity(of: path) else {
            throw .fileGone(path: path, reason: "it was removed (or its directory was) while the broker ran")
        }
        guard current == identity else {
            throw .fileGone(path: path, reason: "another file took its place while the broker ran")
        }
        if let walIdentity, Self.identity(of: path + "-wal") != walIdentity {
            throw .fileGone(
                path: path,
                reason: "its write-ahead log \(path)-wal was removed or replaced while the broker ran (the commits in it are lost with it)")
        }
    }
}
