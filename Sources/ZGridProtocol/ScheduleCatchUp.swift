/// Which of a schedule's missed slots (the broker was down, or its clock stepped forward) make a
/// job when the broker comes to them, among those within the schedule's catch-up window.
public enum ScheduleCatchUp: String, Sendable, Equatable, CaseIterable {
    /// One job, for the latest missed slot; the earlier ones are coalesced into it, counted and logged.
    case latest
    /// One job for every missed slot, oldest first.
    case all
}
