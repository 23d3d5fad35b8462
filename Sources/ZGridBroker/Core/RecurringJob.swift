import ZGridProtocol

/// A job the broker submits by itself on a cron schedule.
///
/// Each slot fires once: the slot is recorded in the job store in the same transaction as the job
/// it made, so a restart neither fires it again nor skips slots missed while the broker was down,
/// as long as they are within the catch-up window. By default (``ScheduleCatchUp/latest``) the
/// missed slots make one job, for the latest of them.
public struct RecurringJob: Sendable, Equatable {
    /// A unique name.
    public var name: String
    /// When it fires (UTC).
    public var cron: CronExpression
    /// The function the job runs.
    public var function: String
    /// The job's payload.
    public var payload: [UInt8]
    /// 0 (lowest) to 9.
    public var priority: Int
    /// Attempts in all before the job is dead-lettered.
    public var maxAttempts: Int
    /// Slots missed (broker down) up to this long ago are still fired; older ones are skipped.
    public var catchUpMilliseconds: Int64
    /// Whether missed slots within the catch-up window make one job (the latest) or one each.
    public var catchUp: ScheduleCatchUp
    /// Tags of the jobs it makes.
    public var tags: [String]

    /// Creates a schedule.
    public init(
        name: String, cron: CronExpression, function: String, payload: [UInt8] = [], priority: Int = 0, maxAttempts: Int = 3,
        catchUpMilliseconds: Int64 = 3_600_000, catchUp: ScheduleCatchUp = .latest, tags: [String] = []
    ) {
        self.name = name
        self.cron = cron
        self.function = function
        self.payload = payload
        self.priority = priority
        self.maxAttempts = maxAttempts
        self.catchUpMilliseconds = catchUpMilliseconds
        self.catchUp = catchUp
        self.tags = tags
    }
}
