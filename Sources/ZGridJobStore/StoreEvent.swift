/// What the store's thread reports through the `events` callback given to `JobStore.start(events:)`.
public enum StoreEvent: Sendable, Equatable {
    /// One transaction committed: the tokens of every `write` call in it, in call order, and the number
    /// of job upserts and deletes it held. Those writes now survive a crash of the process.
    case committed(tokens: [UInt64], jobs: Int)
    /// The answer to the `read` call with this token.
    case read(token: UInt64, Result<StoreReadResult, JobStoreError>)
    /// A transaction failed and was rolled back: none of its writes are stored, and `tokens` (those of
    /// every `write` call in it, in call order) are never reported as committed. Writes queued after
    /// them go into later transactions, which may commit. Also reported for a `write` after `close()`
    /// (as `.closed`, with its token), and for a `start` after `close()` (with no token).
    case failed(JobStoreError, tokens: [UInt64])
}
