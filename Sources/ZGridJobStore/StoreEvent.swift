/// What the store's thread reports through the `events` callback given to `JobStore.start(events:)`.
public enum StoreEvent: Sendable, Equatable {
    /// One transaction committed: the tokens of every `write` call in it, in call order, and the number
    /// of job upserts and deletes it held. Those writes now survive a crash of the process.
    case committed(tokens: [UInt64], jobs: Int)
    /// The answer to the `read` call with this token.
    case read(token: UInt64, Result<StoreReadResult, JobStoreError>)
    /// A transaction failed and was rolled back: none of its writes are stored and their tokens are never
    /// reported as committed. Also reported for a `write` after `close()` (as `.closed`).
    case failed(JobStoreError)
}
