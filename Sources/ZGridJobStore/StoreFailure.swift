import GRDB

/// Turns the untyped errors of GRDB into `JobStoreError`.
enum StoreFailure {
    /// A one-line description of a GRDB or SQLite error.
    static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError {
            // Not `description`: it quotes the whole statement and its arguments (a job's payload among them).
            var text = "SQLite error \(error.extendedResultCode.rawValue): \(error.message ?? "unknown")"
            if let sql = error.sql {
                let statement = sql.split(whereSeparator: \.isNewline).first.map(String.init) ?? sql
                text += " (in `\(statement.count > 60 ? statement.prefix(60) + "…" : statement)`)"
            }
            return text
        }
        return String(describing: error)
    }

    /// Runs `body`, turning any error into `.database` (a `JobStoreError` passes through).
    static func mapping<T>(_ body: () throws -> T) throws(JobStoreError) -> T {
        do {
            return try body()
        } catch let error as JobStoreError {
            throw error
        } catch {
            throw .database(describe(error))
        }
    }
}
