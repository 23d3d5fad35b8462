import ZGridProtocol

/// One `[[schedule]]` table: a job the broker submits by itself on a cron schedule.
public struct ScheduleSettings: Sendable, Equatable {
    /// A unique name (key `name`): 1 to 55 characters of A-Z a-z 0-9 . _ -.
    public var name: String
    /// When it fires, five cron fields in UTC (key `cron`), such as `"0 3 * * *"`.
    public var cron: CronExpression
    /// The function the job runs (key `function`).
    public var function: String
    /// The job's payload as text (key `payload`, default "").
    public var payload: String
    /// 0-9 (key `priority`, default 0).
    public var priority: Int
    /// Attempts in all (key `max_attempts`, default 3).
    public var maxAttempts: Int
    /// Slots missed while the broker was down up to this many seconds ago still fire (key `catch_up_s`, default 3600).
    public var catchUpSeconds: Int
    /// Whether the slots missed within `catch_up_s` make one job, for the latest of them (key
    /// `catch_up = "latest"`, the default), or one job each (`catch_up = "all"`).
    public var catchUp: ScheduleCatchUp

    /// The keys of a `[[schedule]]` table.
    public static let knownKeys = ["name", "cron", "function", "payload", "priority", "max_attempts", "catch_up_s", "catch_up"]

    /// Creates a schedule.
    public init(
        name: String, cron: CronExpression, function: String, payload: String = "", priority: Int = 0, maxAttempts: Int = 3,
        catchUpSeconds: Int = 3600, catchUp: ScheduleCatchUp = .latest
    ) {
        self.name = name
        self.cron = cron
        self.function = function
        self.payload = payload
        self.priority = priority
        self.maxAttempts = maxAttempts
        self.catchUpSeconds = catchUpSeconds
        self.catchUp = catchUp
    }
}

extension ScheduleSettings {
    /// Reads and validates one `[[schedule]]` table.
    init(reading reader: TableReader) throws(ConfigError) {
        try reader.rejectUnknownKeys(known: Self.knownKeys)
        let nameRule = "a name of 1 to 55 characters of A-Z a-z 0-9 . _ -"
        guard let name = try reader.string("name", expected: nameRule) else {
            throw reader.error("name", "expected \(nameRule); the key is missing")
        }
        guard name.utf8.count <= 55, ZGridProtocol.FunctionName.isValid(name) else {
            throw reader.error("name", "expected \(nameRule), got \(String(reflecting: name))")
        }
        let cronRule = "five cron fields in UTC such as \"0 3 * * *\""
        guard let cronText = try reader.string("cron", expected: cronRule) else {
            throw reader.error("cron", "expected \(cronRule); the key is missing")
        }
        let cron: CronExpression
        do { cron = try CronExpression(parsing: cronText) } catch {
            throw reader.error("cron", "expected \(cronRule), got \(String(reflecting: cronText)): \(error)")
        }
        let functionRule = "a function name of 1 to 255 characters of A-Z a-z 0-9 . _ -"
        guard let function = try reader.string("function", expected: functionRule) else {
            throw reader.error("function", "expected \(functionRule); the key is missing")
        }
        guard ZGridProtocol.FunctionName.isValid(function) else {
            throw reader.error("function", "expected \(functionRule), got \(String(reflecting: function))")
        }
        let catchUpRule = "\"latest\" (missed slots make one job, for the latest) or \"all\" (one job each)"
        let catchUpText = try reader.string("catch_up", expected: catchUpRule) ?? ScheduleCatchUp.latest.rawValue
        guard let catchUp = ScheduleCatchUp(rawValue: catchUpText) else {
            throw reader.error("catch_up", "expected \(catchUpRule), got \(String(reflecting: catchUpText))")
        }
        self.init(
            name: name, cron: cron, function: function,
            payload: try reader.string("payload", expected: "a string") ?? "",
            priority: try reader.int("priority", default: 0, in: 0...9),
            maxAttempts: try reader.int("max_attempts", default: 3, in: 1...65535),
            catchUpSeconds: try reader.int("catch_up_s", default: 3600, in: 0...604_800), catchUp: catchUp)
    }
}
