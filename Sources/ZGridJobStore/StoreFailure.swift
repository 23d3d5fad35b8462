import GRDB

/// Turns the untyped errors of GRDB into `JobStoreError`.
enum StoreFailure {
    /// A one-line description of a GRDB or SQLite error.
    static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError {
            return error.description
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
