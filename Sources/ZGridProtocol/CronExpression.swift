/// A five-field cron expression (minute hour day-of-month month day-of-week), evaluated in UTC.
///
/// Each field takes `*`, a number, a range `a-b`, a step `*/n` or `a-b/n`, or a comma-separated
/// list of those. Day-of-week runs 0-6 from Sunday (7 is Sunday too). As in classic (Vixie) cron,
/// when both day-of-month and day-of-week are restricted (neither field starts with `*`), a day
/// matching either one matches; otherwise a day must match both (`0 0 */2 * 1`: Mondays that are
/// odd days of the month).
public struct CronExpression: Sendable, Equatable, CustomStringConvertible {
    private let minutes: Set<Int>
    private let hours: Set<Int>
    private let days: Set<Int>
    private let months: Set<Int>
    private let weekdays: Set<Int>
    private let daysRestricted: Bool
    private let weekdaysRestricted: Bool
    /// The expression as written.
    public let description: String

    /// Parses an expression, saying which field is wrong when it fails.
    public init(parsing text: String) throws(CronError) {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else { throw CronError("expected 5 fields (minute hour day month weekday), got \(fields.count)") }
        minutes = try Self.field(fields[0], "minute", 0...59)
        hours = try Self.field(fields[1], "hour", 0...23)
        days = try Self.field(fields[2], "day of month", 1...31)
        months = try Self.field(fields[3], "month", 1...12)
        weekdays = Set(try Self.field(fields[4], "day of week", 0...7).map { $0 % 7 })
        // As in Vixie cron, a field starting with `*` (`*/2` too) is not a restriction.
        daysRestricted = !fields[2].hasPrefix("*")
        weekdaysRestricted = !fields[4].hasPrefix("*")
        description = fields.joined(separator: " ")
        // A day of month must fall in a month of the expression, unless a day of week alone can
        // match: "0 0 30 2 *" would be accepted and never fire.
        if !(daysRestricted && weekdaysRestricted), !months.contains(where: { month in days.contains { $0 <= Self.longest[month - 1] } }) {
            throw CronError(
                "day of month \"\(fields[2])\" never falls in month \"\(fields[3])\" (no such date), so the schedule would never fire")
        }
    }

    /// Whether `other` names the same minutes, however each is written (`*/1` and `*`, `1,2` and `1-2`).
    public func hasSameSlots(as other: CronExpression) -> Bool {
        minutes == other.minutes && hours == other.hours && days == other.days && months == other.months
            && weekdays == other.weekdays && daysRestricted == other.daysRestricted && weekdaysRestricted == other.weekdaysRestricted
    }

    /// The most days of each month, January first (February has 29 in leap years).
    private static let longest = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

    /// Whether the minute starting at `minuteStart` (ms since 1970, UTC) is a slot of this expression.
    public func matches(minuteStart milliseconds: Int64) -> Bool {
        let date = CivilTime(milliseconds: milliseconds)
        return matchesDay(date) && hours.contains(date.hour) && minutes.contains(date.minute)
    }

    /// The slots (minute starts, ms since 1970) after `after` and no later than `until`, oldest
    /// first, at most `limit` of them.
    public func slots(after: Int64, until: Int64, limit: Int = 1000) -> [Int64] {
        var slots: [Int64] = []
        var last = after
        while slots.count < limit, let slot = firstSlot(after: last, until: until) {
            slots.append(slot)
            last = slot
        }
        return slots
    }

    /// The first slot (a minute start, ms since 1970) after `after` and no later than `until`, or
    /// nil. Days and hours that cannot match are skipped whole, so a search over years stays cheap.
    public func firstSlot(after: Int64, until: Int64) -> Int64? {
        var minute = (after / 60_000 + 1) * 60_000
        while minute <= until {
            let date = CivilTime(milliseconds: minute)
            if !matchesDay(date) {
                minute = Self.start(of: minute, unit: 86_400_000) + 86_400_000
            } else if !hours.contains(date.hour) {
                minute = Self.start(of: minute, unit: 3_600_000) + 3_600_000
            } else if !minutes.contains(date.minute) {
                minute += 60_000
            } else {
                return minute
            }
        }
        return nil
    }

    /// Whether the day (and month) of `date` is one of this expression's.
    private func matchesDay(_ date: CivilTime) -> Bool {
        guard months.contains(date.month) else { return false }
        let dayMatch = days.contains(date.day)
        let weekdayMatch = weekdays.contains(date.weekday)
        return daysRestricted && weekdaysRestricted ? dayMatch || weekdayMatch : dayMatch && weekdayMatch
    }

    /// The start of the day or hour (`unit` ms) holding `milliseconds`, in UTC.
    private static func start(of milliseconds: Int64, unit: Int64) -> Int64 {
        milliseconds - ((milliseconds % unit) + unit) % unit
    }

    private static func field(_ text: String, _ name: String, _ range: ClosedRange<Int>) throws(CronError) -> Set<Int> {
        var values: Set<Int> = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { throw CronError("\(name): \"\(item)\" has more than one /") }
            var step = 1
            if parts.count == 2 {
                guard let value = Int(parts[1]), value >= 1 else {
                    throw CronError("\(name): step in \"\(item)\" is not a positive number")
                }
                step = value
            }
            let base = parts[0]
            let bounds: ClosedRange<Int>
            if base == "*" {
                bounds = range
            } else if let dash = base.firstIndex(of: "-") {
                guard let low = Int(base[..<dash]), let high = Int(base[base.index(after: dash)...]), low <= high else {
                    throw CronError("\(name): \"\(base)\" is not a range like 1-5")
                }
                bounds = low...high
            } else {
                guard let value = Int(base) else { throw CronError("\(name): \"\(base)\" is not a number") }
                bounds = value...(parts.count == 2 ? range.upperBound : value)
            }
            guard range.contains(bounds.lowerBound), range.contains(bounds.upperBound) else {
                throw CronError("\(name): \"\(item)\" is outside \(range.lowerBound)-\(range.upperBound)")
            }
            values.formUnion(stride(from: bounds.lowerBound, through: bounds.upperBound, by: step))
        }
        return values
    }
}

/// Why a cron expression did not parse.
public struct CronError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong.
    public let description: String

    init(_ description: String) { self.description = description }
}

/// Calendar fields of a UTC instant (days-from-civil arithmetic; no Foundation calendar needed).
struct CivilTime {
    let minute: Int
    let hour: Int
    let day: Int
    let month: Int
    let year: Int
    /// 0 = Sunday.
    let weekday: Int

    init(milliseconds: Int64) {
        let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        minute = (secondOfDay / 60) % 60
        hour = secondOfDay / 3600
        weekday = Int(((days % 7) + 11) % 7)  // 1970-01-01 was a Thursday (4)
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        day = Int(doy - (153 * mp + 2) / 5 + 1)
        month = Int(mp < 10 ? mp + 3 : mp - 9)
        year = Int(yoe + era * 400) + (month <= 2 ? 1 : 0)
    }
}
