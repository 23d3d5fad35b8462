import GRDB

/// Runs the items taken from the queue on the store's thread, strictly in arrival order: each run of
/// consecutive writes commits as one transaction (group commit) reported by one `.committed`; each read
/// is answered after the writes queued before it have committed.
struct BatchRunner: Sendable {
    /// The store's connection.
    let database: DatabaseQueue
    /// Checks that the store's file is still in place before each commit (none: no check).
    let fileCheck: StoreFileCheck?
    /// The store's path (see ``CommitHold``).
    let path: String

    /// Runs `items` and reports every outcome through `emit`, in order.
    func run(_ items: [WorkItem], emit: (StoreEvent) -> Void) {
        var index = items.startIndex
        while index < items.endIndex {
            switch items[index] {
            case .read(let query, let token):
                emit(.read(token: token, answer(query)))
                index += 1
            case .write:
                var tokens: [UInt64] = []
                var writes: [[StoreWrite]] = []
                while index < items.endIndex, case .write(let batch, let token) = items[index] {
                    tokens.append(token)
                    writes.append(batch)
                    index += 1
                }
                switch commit(writes) {
                case .success(let jobs): emit(.committed(tokens: tokens, jobs: jobs))
                case .failure(let error): emit(.failed(error, tokens: tokens))
                }
            }
        }
    }

    /// Commits `writes` in one transaction; the number of job upserts and deletes. Nothing is
    /// committed into a store file that was removed or replaced meanwhile (see ``StoreFileCheck``).
    private func commit(_ writes: [[StoreWrite]]) -> Result<Int, JobStoreError> {
        CommitHold.wait(path: path)
        return Result { () throws(JobStoreError) in
            try fileCheck?.verify()
            return try StoreFailure.mapping {
                try database.write { db in try JobWrites.apply(writes.joined(), in: db) }
            }
        }
    }

    /// Answers `query`; a purge runs in its own transaction.
    private func answer(_ query: StoreRead) -> Result<StoreReadResult, JobStoreError> {
        Result { () throws(JobStoreError) in
            try StoreFailure.mapping {
                switch query {
                case .purge, .expire, .expireEvents:
                    return try database.write { db in try JobQueries.answer(query, in: db) }
                case .job, .jobs, .counts, .events:
                    break
                }
                return try database.read { db in try JobQueries.answer(query, in: db) }
            }
        }
    }
}
