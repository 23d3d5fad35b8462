import Testing
import ZGridJobStore
import ZGridProtocol

@testable import ZGridBroker

@Suite("A schedule whose cron expression changed starts over, without the new expression's missed slots")
struct ScheduleChangeTests {
    /// 2026-11-29 03:00 UTC.
    let threeAM: Int64 = 1_795_921_200_000

    /// A core with the schedule "tick" on `cron`, recovered at `wall` with `recorded` as its row.
    /// Returns the core and what recovery and the first tick did.
    private func restart(cron: String, wall: Int64, recorded: ScheduleSlot) throws -> (BrokerCore, [BrokerAction]) {
        let recurring = RecurringJob(name: "tick", cron: try CronExpression(parsing: cron), function: "f")
        var core = BrokerCore(options: BrokerOptions(schedules: [recurring]), now: 0)
        core.wallNow = wall
        var actions: [BrokerAction] = []
        core.recoverJobs([], maxID: 0, scheduleSlots: ["tick": recorded], now: 0, into: &actions)
        core.handle(.tick, now: 1_000, into: &actions)
        return (core, actions)
    }

    /// The store writes among `actions`.
    private func writes(_ actions: [BrokerAction]) -> [StoreWrite] {
        actions.flatMap { action -> [StoreWrite] in if case .storeWrite(let writes, _) = action { writes } else { [] } }
    }

    @Test(
        "every minute changed to hourly at :30, two hours down: the 04:30 slot is not caught up; logged; the row takes the new expression")
    func changedExpression() throws {
        let wall = threeAM + 2 * 3_600_000 + 40 * 60_000 + 5_000  // 05:40:05
        let (core, actions) = try restart(cron: "30 * * * *", wall: wall, recorded: ScheduleSlot(slot: threeAM, cron: "* * * * *"))
        #expect(core.jobCounts["queued"] == nil, "no job: 04:30 was a slot of the new expression only")
        #expect(writes(actions) == [.scheduleFired(name: "tick", slot: wall - 60_000, cron: "30 * * * *")])
        let notices = actions.compactMap { if case .notice(let notice) = $0 { notice.description } else { nil } }
        #expect(
            notices == [
                "schedule 'tick' changed its cron expression from \"* * * * *\" to \"30 * * * *\": it fires from now on, "
                    + "without catching up the slots of the new expression while the broker was down"
            ])
    }

    @Test("the same expression, written alike or not, and a row of an older store without one, still catch up")
    func unchangedExpression() throws {
        let wall = threeAM + 10 * 60_000 + 5_000
        for recorded in ["* * * * *", "*/1 * * * *", "0-59 * * * *", nil] {
            let (core, actions) = try restart(cron: "* * * * *", wall: wall, recorded: ScheduleSlot(slot: threeAM, cron: recorded))
            #expect(core.jobCounts["queued"] == 1, "the missed slots coalesced into one job (recorded \(recorded ?? "nil"))")
            #expect(core.statistics.scheduleSlotsCoalesced == 9)
            #expect(!actions.contains { if case .notice(.scheduleChanged) = $0 { true } else { false } })
        }
    }

    @Test("a changed schedule still fires a slot of the new expression within the last minute, as a new schedule does")
    func changedScheduleFiresTheCurrentMinute() throws {
        let wall = threeAM + 30 * 60_000 + 5_000  // 03:30:05
        let (core, actions) = try restart(cron: "30 * * * *", wall: wall, recorded: ScheduleSlot(slot: threeAM, cron: "0 * * * *"))
        #expect(core.jobCounts["queued"] == 1)
        #expect(writes(actions).last == .scheduleFired(name: "tick", slot: threeAM + 30 * 60_000, cron: "30 * * * *"))
    }
}
