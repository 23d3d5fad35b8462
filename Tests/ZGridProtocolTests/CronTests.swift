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

    @Test("a day field or weekday field starting with * restricts with the other (AND), as in Vixie cron; two restricted ones OR")
    func starStepFields() throws {
        let monday30th = sunday3am + 21 * 3_600_000  // 2026-11-30 00:00, a Monday
        let oddMondays = try CronExpression(parsing: "0 0 */2 * 1")
        #expect(!oddMondays.matches(minuteStart: monday30th), "the 30th is not an odd day")
        #expect(!oddMondays.matches(minuteStart: monday30th + 86_400_000), "Tuesday the 1st is not a Monday")
        #expect(oddMondays.matches(minuteStart: monday30th + 7 * 86_400_000), "Monday the 7th")
        let firstOnEvenWeekdays = try CronExpression(parsing: "0 0 1 * */2")
        #expect(firstOnEvenWeekdays.matches(minuteStart: monday30th + 86_400_000), "Tuesday the 1st")
        #expect(!firstOnEvenWeekdays.matches(minuteStart: monday30th - 86_400_000), "Sunday the 29th is not the 1st")
        #expect(try CronExpression(parsing: "0 0 1 * 0-6/2").matches(minuteStart: monday30th - 86_400_000), "a Sunday, OR the 1st")
        #expect(try CronExpression(parsing: "0 0 2 * 1").matches(minuteStart: monday30th), "a Monday, OR the 2nd")
    }

    @Test("slots lists each matching minute in a window, oldest first")
    func slots() throws {
        let everyTen = try CronExpression(parsing: "*/10 * * * *")
        let slots = everyTen.slots(after: sunday3am, until: sunday3am + 30 * 60_000)
        #expect(slots == [sunday3am + 600_000, sunday3am + 1_200_000, sunday3am + 1_800_000])
        #expect(everyTen.slots(after: sunday3am, until: sunday3am + 3_600_000, limit: 2).count == 2)
    }

    @Test("the first slot after a time skips days and hours that cannot match, and agrees minute by minute")
    func firstSlot() throws {
        let leapNoon = try CronExpression(parsing: "0 12 29 2 *")
        let fiveYears: Int64 = 5 * 366 * 86_400_000
        #expect(leapNoon.firstSlot(after: sunday3am, until: sunday3am + fiveYears) == 1_835_438_400_000, "2028-02-29 12:00")
        #expect(leapNoon.firstSlot(after: sunday3am, until: 1_835_438_400_000 - 1) == nil, "not before its time")
        let thirtyFirst = try CronExpression(parsing: "0 0 31 1-3 *")
        #expect(thirtyFirst.firstSlot(after: sunday3am, until: 1_801_353_600_000 - 1) == nil, "none before 2027-01-31")
        #expect(thirtyFirst.firstSlot(after: sunday3am, until: sunday3am + fiveYears) == 1_801_353_600_000, "2027-01-31 00:00")
        let weekdays = try CronExpression(parsing: "*/15 9-17 * * 1-5")
        #expect(weekdays.firstSlot(after: sunday3am, until: sunday3am + fiveYears) == sunday3am + 30 * 3_600_000, "Monday 09:00")
        #expect(weekdays.firstSlot(after: sunday3am + 30 * 3_600_000, until: sunday3am + fiveYears) == sunday3am + 30 * 3_600_000 + 900_000)
        // Over ten days, every slot is a matching minute and every matching minute a slot.
        for text in ["*/15 9-17 * * 1-5", "59 23 * * *", "0 3 1 * 0", "30 */5 1-3,30 * *", "* 0 * 12 6"] {
            let cron = try CronExpression(parsing: text)
            let end = sunday3am + 10 * 86_400_000
            let everyMinute = stride(from: sunday3am + 60_000, through: end, by: 60_000).filter { cron.matches(minuteStart: $0) }
            #expect(cron.slots(after: sunday3am, until: end, limit: .max) == everyMinute, "\(text)")
        }
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

    @Test("an expression naming a date that never occurs is refused, saying so; one a weekday can still match is not")
    func neverFires() throws {
        for text in ["0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 30-31 2 *"] {
            let error = #expect(throws: CronError.self, "\(text)") { try CronExpression(parsing: text) }
            #expect(error?.description.contains("never fire") == true, "\(text): \(String(describing: error))")
        }
        let refused = #expect(throws: CronError.self) { try CronExpression(parsing: "0 0 31 2 *") }
        #expect(refused?.description == "day of month \"31\" never falls in month \"2\" (no such date), so the schedule would never fire")
        // February 29 (leap years), the 31st of the months that have one, and a weekday's OR.
        for text in ["0 12 29 2 *", "0 0 31 1-12 *", "0 0 30 2 1", "0 0 31 2,3 *"] {
            #expect(throws: Never.self, "\(text)") { try CronExpression(parsing: text) }
        }
    }
}
