/// A query, answered on the store's thread in order after the writes queued before it.
public enum StoreRead: Sendable, Equatable {
    /// The job with this id: `.jobs` with zero or one record.
    case job(Int64)
    /// The jobs that match the filter, ascending by id: `.jobs`.
    case jobs(JobFilter)
    /// Deletes finished jobs in `states` that finished before `finishedBefore` (wall-clock ms; a finished job
    /// without `finishedAt` counts by `updatedAt`), only of `function` and only carrying `tag` (exactly,
    /// as ``JobFilter/tag``) when given: `.purged` with the count. Unfinished states in `states` are
    /// ignored, so a purge never deletes a live job.
    case purge(states: Set<JobState>, finishedBefore: Int64, function: String?, tag: String?)
    /// Deletes finished jobs whose result time-to-live ran out by `now` (finish time plus the job's
    /// own result TTL): `.purged` with the count.
    case expire(now: Int64)
    /// The number of jobs in each state, every state present (0 when none): `.counts`.
    case counts
    /// The events of the log matching the query: `.events` with the oldest seq still kept.
    case events(EventQuery)
    /// Deletes events recorded before `before` (wall-clock ms): `.purged` with the count.
    case expireEvents(before: Int64)
}
