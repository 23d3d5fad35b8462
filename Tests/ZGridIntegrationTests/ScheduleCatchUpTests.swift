import Foundation
import Testing
import ZGridBroker
import ZGridJobStore
import ZGridProtocol

extension IntegrationTests {
    @Suite("Schedule slots missed while the broker was down, over real restarts and a real store", .serialized, .timeLimit(.minutes(2)))
    struct ScheduleCatchUpTests {
        /// The current wall time in ms since 1970.
        static func wallNow() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

        /// Waits, if need be, until at least `seconds` of the current UTC minute are left, so that
        /// no new every-minute slot comes while the test runs; returns the minute's start.
        static func roomInMinute(seconds: Int64 = 20) async throws -> Int64 {
            var left = 60_000 - wallNow() % 60_000
            if left < seconds * 1000 {
                try await Task.sleep(for: .milliseconds(left + 200))
                left = 60_000 - wallNow() % 60_000
            }
            return wallNow() / 60_000 * 60_000
        }

        /// Writes schedule slot rows to the store at `path` (creating it), as a broker that fired
        /// them and then stopped would have left them.
        static func recordSlots(_ writes: [StoreWrite], at path: String) throws {
            let store = try JobStore(path: path)
            store.write(writes, token: 1)
            store.close()
        }

        /// The unfinished jobs in the store at `path` tagged `schedule:NAME`, by schedule name.
        static func scheduleJobs(at path: String) throws -> [String: Int] {
            let store = try JobStore(path: path)
            defer { store.close() }
            var counts: [String: Int] = [:]
            for job in try store.recover().unfinished {
                for tag in job.tags where tag.hasPrefix("schedule:") { counts[String(tag.dropFirst(9)), default: 0] += 1 }
            }
            return counts
        }

        @Test("ten minutes down: an every-minute schedule fires one job (nine slots coalesced), one with catch_up = \"all\" fires ten")
        func missedSlotsCoalesce() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let path = directory.file("jobs.sqlite")
            let minute = try await Self.roomInMinute()
            let everyMinute = try CronExpression(parsing: "* * * * *")
            try Self.recordSlots(
                [
                    .scheduleFired(name: "latest", slot: minute - 600_000, cron: "* * * * *"),
                    .scheduleFired(name: "every", slot: minute - 600_000, cron: "* * * * *"),
                ], at: path)
            let schedules = [
                RecurringJob(name: "latest", cron: everyMinute, function: "stamp"),
                RecurringJob(name: "every", cron: everyMinute, function: "stamp", catchUp: .all),
            ]
            let broker = try startBroker(jobStore: path, schedules: schedules)
            let endpoint = broker.endpoints[0]
            try await waitUntil("the missed slots fired") { broker.status.statistics.jobsAccepted == 11 }
            #expect(broker.status.statistics.scheduleSlotsCoalesced == 9)
            broker.stop()
            #expect(try Self.scheduleJobs(at: path) == ["latest": 1, "every": 10])
            // A restart in the same minute fires none of them again.
            let restarted = try await restartBroker(endpoint: endpoint, jobStore: path, schedules: schedules)
            try await Task.sleep(for: .milliseconds(500))
            #expect(restarted.status.statistics.jobsAccepted == 0)
            #expect(restarted.status.statistics.scheduleSlotsCoalesced == 0)
            restarted.stop()
            #expect(try Self.scheduleJobs(at: path) == ["latest": 1, "every": 10])
        }
    }
}

extension IntegrationTests.ScheduleCatchUpTests {
    @Test("a restart with a changed cron expression fires no catch-up slot of the new one; the store then holds the new one")
    func changedExpressionStartsOver() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("jobs.sqlite")
        let minute = try await Self.roomInMinute()
        let everyMinute = try CronExpression(parsing: "* * * * *")
        // Hourly, half an hour from this minute: the last hour holds one of its slots, the last minute none.
        let hourly = try CronExpression(parsing: "\((minute / 60_000 + 30) % 60) * * * *")
        let control = RecurringJob(name: "control", cron: everyMinute, function: "stamp")
        let first = try startBroker(jobStore: path, schedules: [RecurringJob(name: "tick", cron: everyMinute, function: "stamp"), control])
        let endpoint = first.endpoints[0]
        try await waitUntil("this minute's slots fired") { first.status.statistics.jobsAccepted == 2 }
        first.stop()
        // Two hours down: both rows back by two hours, as a broker stopped then would have left them.
        try Self.recordSlots(
            [
                .scheduleFired(name: "tick", slot: minute - 7_200_000, cron: "* * * * *"),
                .scheduleFired(name: "control", slot: minute - 7_200_000, cron: "* * * * *"),
            ], at: path)
        let changed = [RecurringJob(name: "tick", cron: hourly, function: "stamp"), control]
        let second = try await restartBroker(endpoint: endpoint, jobStore: path, schedules: changed)
        // The unchanged control schedule catches up (one job) at the same tick as "tick" is walked.
        try await waitUntil("the control schedule caught up") { second.status.statistics.jobsAccepted >= 1 }
        try await Task.sleep(for: .milliseconds(300))
        #expect(second.status.statistics.jobsAccepted == 1, "no job for the changed schedule's slot of half an hour ago")
        second.stop()
        #expect(try Self.scheduleJobs(at: path) == ["tick": 1, "control": 2])
        let store = try JobStore(path: path)
        let row = try #require(try store.recover().scheduleSlots["tick"])
        store.close()
        #expect(row.cron == hourly.description)
        #expect(row.slot > minute - 120_000, "the changed schedule counts from the restart")
        // Restarted again with the new expression: it is no longer a change, and nothing fires.
        let third = try await restartBroker(endpoint: endpoint, jobStore: path, schedules: changed)
        try await Task.sleep(for: .milliseconds(500))
        #expect(third.status.statistics.jobsAccepted == 0)
        third.stop()
        #expect(try Self.scheduleJobs(at: path) == ["tick": 1, "control": 2])
    }
}
