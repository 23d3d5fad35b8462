/// One change to the store; the changes queued together commit in one transaction.
public enum StoreWrite: Sendable, Equatable {
    /// Inserts the job, or replaces every field of the job with the same id. The last upsert of an id wins.
    case upsert(JobRecord)
    /// Deletes the job with this id; deleting a missing job is not an error.
    case delete(Int64)
    /// Cancels the job with this id if it is still queued, leaving its other fields (its payload
    /// among them) as they are: its state becomes cancelled, its last error `error`, its finish and
    /// update times `at` (ms since 1970). A job in any other state, or missing, is left alone.
    case cancelQueued(id: Int64, error: String, at: Int64)
    /// Records that the schedule `name` fired for `slot` (its latest fired slot), a slot of the
    /// cron expression `cron`.
    case scheduleFired(name: String, slot: Int64, cron: String)
    /// Appends an event to the event log (its `seq` set).
    case event(EventRecord)
    /// Records how far the named subscription `name` has read the event log.
    case subscriptionPosition(name: String, seq: Int64)
}
