import GRDB

/// Opens the SQLite file of a store.
enum StoreDatabase {
    /// Opens or creates the file at `path` in WAL mode with `synchronous = NORMAL`, then migrates it.
    ///
    /// WAL + NORMAL writes every commit to the WAL file before the commit returns, so a committed
    /// transaction survives a crash or SIGKILL of the process; only a power loss or OS crash may lose the
    /// last commits (never corrupting the file). That is the durability the broker asks for.
    static func open(path: String) throws(JobStoreError) -> DatabaseQueue {
        guard !path.isEmpty else { throw .cannotOpen(path: path, reason: "the path is empty") }
        var configuration = Configuration()
        configuration.label = "ZGridJobStore"
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            let mode = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
            guard mode?.lowercased() == "wal" else {
                throw DatabaseError(message: "WAL journal mode is unavailable (journal_mode is \(mode ?? "unknown"))")
            }
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        do {
            let database = try DatabaseQueue(path: path, configuration: configuration)
            try StoreSchema.migrator.migrate(database)
            // SQLite opens a file it may not write read-only, and then only the first write fails:
            // check now, so that a broker with such a store stops at start instead of refusing every submit.
            do {
                // (A write, not just BEGIN IMMEDIATE: in WAL mode that succeeds on a read-only file.)
                try database.inTransaction(.immediate) { db in
                    try db.execute(sql: "CREATE TABLE zgrid_write_probe(x INTEGER)")
                    return .rollback
                }
            } catch {
                throw JobStoreError.cannotOpen(
                    path: path,
                    reason:
                        "the store cannot be written (check the permissions of the file and its directory): \(StoreFailure.describe(error))"
                )
            }
            return database
        } catch let error as JobStoreError {
            throw error
        } catch {
            throw .cannotOpen(path: path, reason: StoreFailure.describe(error))
        }
    }
}
