/// One change to the store; the changes queued together commit in one transaction.
public enum StoreWrite: Sendable, Equatable {
    /// Inserts the job, or replaces every field of the job with the same id. The last upsert of an id wins.
    case upsert(JobRecord)
    /// Deletes the job with this id; deleting a missing job is not an error.
    case delete(Int64)
    /// Records that the schedule `name` fired for `slot` (its latest fired slot).
    case scheduleFired(name: String, slot: Int64)
    /// Appends an event to the event log (its `seq` set).
    case event(EventRecord)
    /// Records how far the named subscription `name` has read the event log.
    case subscriptionPosition(name: String, seq: Int64)
}
