/// A schedule's row in the store: its last fired slot and the cron expression the slot was
/// computed from.
public struct ScheduleSlot: Sendable, Equatable {
    /// The latest fired slot (ms since 1970), or the time from which a changed schedule fires.
    public var slot: Int64
    /// The cron expression the slot belongs to, as the broker wrote it; nil in rows written before
    /// stores recorded it.
    public var cron: String?

    /// Creates a row.
    public init(slot: Int64, cron: String?) {
        self.slot = slot
        self.cron = cron
    }
}
