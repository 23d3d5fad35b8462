import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An exclusive advisory lock (`flock`) on a store's file, held while the store is open, so that
/// two brokers never serve one store: both would run its jobs.
///
/// The lock is on its own file descriptor: SQLite's own (`fcntl`) locks on the file are separate.
final class StoreLock: Sendable {
    private let descriptor: Mutex<Int32>

    /// How long a lock held elsewhere is tried again before the open fails: a store closed in this
    /// process a moment ago may still be locked by a child process another thread is starting, which
    /// holds a copy of the lock's descriptor until it runs its program (close-on-exec).
    static let retryMilliseconds = 250

    /// Locks the file at `path`, creating it empty when missing (SQLite takes an empty file for a new
    /// database); fails when another process (or another open store) holds it for longer than
    /// ``retryMilliseconds``. Read-only is enough for the lock: whether the store can be written is
    /// SQLite's to find out.
    init(path: String) throws(JobStoreError) {
        let fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw .cannotOpen(path: path, reason: "cannot open the file to lock it: \(String(cString: strerror(errno)))")
        }
        guard Self.lock(fd) else {
            let reason =
                errno == EWOULDBLOCK
                ? "another broker has this store open"
                    + (StoreLockHolder.describe(lockOn: fd).map { ": \($0) holds its lock" } ?? "")
                    + " (a store serves one broker at a time)"
                : "cannot lock the file: \(String(cString: strerror(errno)))"
            close(fd)
            throw .cannotOpen(path: path, reason: reason)
        }
        descriptor = Mutex(fd)
    }

    /// Takes the exclusive lock on `fd` without blocking, trying again every 5 ms for up to
    /// ``retryMilliseconds`` while another holds it; false with `errno` set when it could not.
    private static func lock(_ fd: Int32) -> Bool {
        for attempt in 0...(retryMilliseconds / 5) {
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { return true }
            guard errno == EWOULDBLOCK, attempt < retryMilliseconds / 5 else { return false }
            usleep(5_000)
        }
        return false
    }

    /// The device and inode of the locked file (the file opened at `path`); nil once released.
    var identity: StoreFileCheck.FileIdentity? {
        descriptor.withLock { fd in fd >= 0 ? StoreFileCheck.identity(ofDescriptor: fd) : nil }
    }

    /// Releases the lock. Idempotent.
    func release() {
        descriptor.withLock { fd in
            guard fd >= 0 else { return }
            close(fd)
            fd = -1
        }
    }

    deinit { release() }
}
