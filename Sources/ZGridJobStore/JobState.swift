/// Where a durable job is in its life.
public enum JobState: String, Sendable, Codable, CaseIterable {
    /// Waiting for a worker; runnable from `runAt` on.
    case queued
    /// Waiting for its `runAt` time (delayed, or backing off before a retry).
    case scheduled
    /// An attempt is running on a worker.
    case running
    /// Finished with a result.
    case succeeded
    /// Failed for good (kept apart from `dead` for completeness).
    case failed
    /// Failed its last allowed attempt: dead-lettered.
    case dead
    /// Cancelled before it finished.
    case cancelled
    /// Parked by load shedding while the broker is overloaded; queued again when the load falls.
    case deferred

    /// Whether the job is finished for good: succeeded, failed, dead or cancelled.
    public var isTerminal: Bool {
        switch self {
        case .queued, .scheduled, .running, .deferred: false
        case .succeeded, .failed, .dead, .cancelled: true
        }
    }

    /// The states of unfinished jobs: queued, scheduled, running and deferred.
    public static let unfinished: Set<JobState> = [.queued, .scheduled, .running, .deferred]

    /// The states of finished jobs: succeeded, failed, dead and cancelled.
    public static let terminal: Set<JobState> = [.succeeded, .failed, .dead, .cancelled]
}
