import Testing
import ZGridProtocol

@Suite("Cron expressions")
struct CronTests {
    /// 2026-11-29 (a Sunday) 03:00 UTC, in ms since 1970.
    let sunday3am: Int64 = 1_795_921_200_000

    @Test("fields match the right minutes, in UTC")
    func matching() throws {
        let nightly = try CronExpression(parsing: "0 3 * * *")
        #expect(nightly.matches(minuteStart: sunday3am))
        #expect(!nightly.matches(minuteStart: sunday3am + 60_000))
        let weekdays = try CronExpression(parsing: "*/15 9-17 * * 1-5")
        #expect(!weekdays.matches(minuteStart: sunday3am + 6 * 3_600_000), "Sunday 09:00 is not a weekday")
        #expect(weekdays.matches(minuteStart: sunday3am + 30 * 3_600_000), "Monday 09:00")
        #expect(weekdays.matches(minuteStart: sunday3am + 30 * 3_600_000 + 15 * 60_000), "Monday 09:15")
        #expect(!weekdays.matches(minuteStart: sunday3am + 30 * 3_600_000 + 5 * 60_000), "Monday 09:05")
        let sundays = try CronExpression(parsing: "0 3 * * 7")
        #expect(sundays.matches(minuteStart: sunday3am), "7 means Sunday")
        let firstOrSunday = try CronExpression(parsing: "0 3 1 * 0")
        #expect(firstOrSunday.matches(minuteStart: sunday3am), "day-of-month OR day-of-week")
    }

    @Test("slots lists each matching minute in a window, oldest first")
    func slots() throws {
        let everyTen = try CronExpression(parsing: "*/10 * * * *")
        let slots = everyTen.slots(after: sunday3am, until: sunday3am + 30 * 60_000)
        #expect(slots == [sunday3am + 600_000, sunday3am + 1_200_000, sunday3am + 1_800_000])
        #expect(everyTen.slots(after: sunday3am, until: sunday3am + 3_600_000, limit: 2).count == 2)
    }

    @Test("bad expressions say which field is wrong")
    func errors() {
        #expect(throws: CronError.self) { try CronExpression(parsing: "* * * *") }
        let hour = #expect(throws: CronError.self) { try CronExpression(parsing: "0 24 * * *") }
        #expect(hour?.description == "hour: \"24\" is outside 0-23")
        #expect(throws: CronError.self) { try CronExpression(parsing: "*/0 * * * *") }
        #expect(throws: CronError.self) { try CronExpression(parsing: "5-1 * * * *") }
        #expect(throws: CronError.self) { try CronExpression(parsing: "a * * * *") }
    }
}
