import GRDB
import Synchronization

/// The durable job store of the broker: one SQLite file, written on the store's own thread.
///
/// The broker's routing loop never waits on disk: `write` and `read` only queue work and return. The
/// store's thread takes everything queued at once, commits each run of consecutive writes as one
/// transaction (group commit) and answers each read after the writes queued before it, reporting every
/// outcome in arrival order through the `events` callback given to `start(events:)`.
///
/// Durability: the file is in WAL mode with `synchronous = NORMAL`. A write reported in `.committed` is
/// in the WAL file and survives a crash or SIGKILL of the process; a power loss or OS crash may lose the
/// last commits, never corrupting the file. This trade buys the group-commit throughput the broker needs.
public final class JobStore: Sendable {
    /// The file's path.
    public let path: String
    /// The connection (used on the store's thread, and by `recover()`).
    private let database: DatabaseQueue
    /// The hand-off to the store's thread.
    private let queue = WorkQueue()
    /// The phase and the events callback.
    private let lifecycle = Mutex(StoreLifecycle())
    /// Keeps other stores (another broker) off the file while this one is open.
    private let lock: StoreLock
    /// Checks before each commit that the path still names the file opened (nil when its identity
    /// could not be read).
    private let fileCheck: StoreFileCheck?

    /// Opens or creates the SQLite file at `path` and creates or migrates its schema.
    ///
    /// - Throws: `.cannotOpen` with the path when the file cannot be opened, created or migrated (missing
    ///   directory, not a database, no WAL support, empty path, not writable), or when another open
    ///   store (another broker) has it.
    public init(path: String) throws(JobStoreError) {
        self.path = path
        guard !path.isEmpty else { throw .cannotOpen(path: path, reason: "the path is empty") }
        // The lock first: a store another broker serves is left as it is, not migrated, probed
        // for writing or waited on while that broker writes.
        lock = try StoreLock(path: path)
        database = try StoreDatabase.open(path: path)
        fileCheck = lock.identity.map { StoreFileCheck(path: path, identity: $0) }
    }

    /// Loads what the broker needs at start: every unfinished job (queued, scheduled, running) ascending by
    /// id, the highest job id ever written (0 for none; deletes and purges do not lower it), and the last
    /// fired slot of each schedule with its cron expression. Reads synchronously: call it before `start(events:)`.
    ///
    /// - Throws: `.closed` after `close()`, `.database` when SQLite fails.
    public func recover() throws(JobStoreError) -> (unfinished: [JobRecord], maxID: Int64, scheduleSlots: [String: ScheduleSlot]) {
        guard lifecycle.withLock({ $0.phase }) != .closed else { throw .closed }
        return try StoreFailure.mapping {
            try database.read { db in
                (try JobQueries.unfinished(in: db), try JobQueries.highestID(in: db), try JobQueries.scheduleSlots(in: db))
            }
        }
    }

    /// Loads what the broker's event hub needs at start: the highest event seq ever recorded (0 for
    /// none; expiry does not lower it) and the acknowledged position of every named subscription.
    /// Reads synchronously: call it before `start(events:)`.
    ///
    /// - Throws: `.closed` after `close()`, `.database` when SQLite fails.
    public func recoverEvents() throws(JobStoreError) -> (maxSeq: Int64, positions: [String: Int64]) {
        guard lifecycle.withLock({ $0.phase }) != .closed else { throw .closed }
        return try StoreFailure.mapping {
            try database.read { db in (try EventRow.highestSeq(in: db), try EventRow.positions(in: db)) }
        }
    }

    /// Starts the store's thread; `events` is called on that thread for every committed transaction,
    /// answered read and failure, in arrival order. It must not block: it should only hand the event to
    /// the broker's loop and wake it. Work queued before `start` is done first. Later calls do nothing,
    /// except after `close()`, when `events` gets `.failed(.closed, tokens: [])` at once.
    ///
    /// The store keeps `events` until it is deinitialized (calls after `close()` still report to it), so a
    /// callback that uses the store must capture it weakly: a strong capture keeps both alive forever.
    public func start(events: @escaping @Sendable (StoreEvent) -> Void) {
        let phase = lifecycle.withLock { state in
            let phase = state.phase
            if phase == .opened {
                state.phase = .running
                state.events = events
            }
            return phase
        }
        switch phase {
        case .opened:
            StoreThread.start(queue: queue, runner: BatchRunner(database: database, fileCheck: fileCheck, path: path), events: events)
        case .running: break
        case .closed: events(.failed(.closed, tokens: []))
        }
    }

    /// Queues `writes` to commit in one transaction with the other writes queued by then; `token` comes back
    /// in `.committed` once they are durable. Thread-safe; never blocks on disk. After `close()` nothing is
    /// queued and the `events` callback gets `.failed(.closed, tokens: [token])` at once, on the calling thread.
    public func write(_ writes: [StoreWrite], token: UInt64) {
        if !queue.enqueue(.write(writes, token: token)) {
            reportClosed(.failed(.closed, tokens: [token]))
        }
    }

    /// Queues a read, answered through `.read(token:_:)` after the writes queued before it have committed
    /// (so it sees them). Thread-safe; never blocks on disk. After `close()` the `events` callback gets
    /// `.read(token:, .failure(.closed))` at once, on the calling thread.
    public func read(_ query: StoreRead, token: UInt64) {
        if !queue.enqueue(.read(query, token: token)) {
            reportClosed(.read(token: token, .failure(.closed)))
        }
    }

    /// Commits and answers everything queued, stops the store's thread and closes the file, waiting for all
    /// of it. Idempotent. Called from the `events` callback it does not wait: the thread stops after the
    /// current batch. Never started, it commits the queued writes on the calling thread, reporting nothing.
    public func close() {
        let phase = lifecycle.withLock { state in
            let phase = state.phase
            state.phase = .closed
            return phase
        }
        queue.close()
        if phase == .opened {
            StoreThread.drain(queue, with: BatchRunner(database: database, fileCheck: fileCheck, path: path), events: { _ in })
        } else if !StoreThread.isServing(queue) {
            queue.waitUntilFinished()
        }
        // Called from the store's own thread, the last batch is still running: the lock goes with
        // the store (deinit) then.
        if !StoreThread.isServing(queue) { lock.release() }
    }

    /// Closes the store (see `close()`) if that was not done.
    deinit {
        close()
    }

    /// Reports a call made after `close()` to the `events` callback, if there is one.
    private func reportClosed(_ event: StoreEvent) {
        lifecycle.withLock { $0.events }?(event)
    }
}
