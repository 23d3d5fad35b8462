/// The answer to a `StoreRead`.
public enum StoreReadResult: Sendable, Equatable {
    /// The jobs found, ascending by id (for `.job`: empty when the id is unknown).
    case jobs([JobRecord])
    /// How many jobs a `.purge` deleted.
    case purged(Int)
    /// The number of jobs in each state; every state is a key.
    case counts([JobState: Int])
    /// Events of the log, ascending by seq, and the oldest seq the log still keeps (nil when empty).
    case events([EventRecord], oldest: Int64?)
}
