import Testing
import ZGridJobStore
import ZGridProtocol

@testable import ZGridBroker

@Suite("Recurring jobs fire once per slot, across restarts")
struct ScheduleTests {
    /// 2026-11-29 03:00 UTC.
    let threeAM: Int64 = 1_795_921_200_000

    private func core(
        schedule: String = "*/1 * * * *", catchUp: Int64 = 3_600_000, interval: Int64 = 1000, wall: Int64, slots: [String: Int64] = [:]
    ) throws -> BrokerCore {
        let recurring = RecurringJob(name: "tick", cron: try CronExpression(parsing: schedule), function: "f", catchUpMilliseconds: catchUp)
        let options = BrokerOptions(heartbeat: HeartbeatSettings(intervalMilliseconds: interval), schedules: [recurring])
        var core = BrokerCore(options: options, now: 0)
        core.wallNow = wall
        var ignored: [BrokerAction] = []
        core.recoverJobs([], maxID: 0, scheduleSlots: slots, now: 0, into: &ignored)
        return core
    }

    /// The slots fired by a tick at `wall`, as recorded in store writes.
    private func tick(_ core: inout BrokerCore, wall: Int64, now: Int64) -> [Int64] {
        core.wallNow = wall
        var actions: [BrokerAction] = []
        core.handle(.tick, now: now, into: &actions)
        return actions.flatMap { action -> [Int64] in
            guard case .storeWrite(let writes, _) = action else { return [] }
            return writes.compactMap { if case .scheduleFired("tick", let slot) = $0 { slot } else { nil } }
        }
    }

    @Test("each minute's slot fires once however often the broker ticks")
    func oncePerSlot() throws {
        var core = try core(wall: threeAM + 5_000)
        #expect(tick(&core, wall: threeAM + 5_000, now: 1_000) == [threeAM])
        #expect(tick(&core, wall: threeAM + 30_000, now: 2_000) == [])
        #expect(tick(&core, wall: threeAM + 61_000, now: 3_000) == [threeAM + 60_000])
        #expect(core.jobCounts["queued"] == 2)
    }

    @Test("after a restart a fired slot does not fire again, and missed slots within catch-up do")
    func acrossRestarts() throws {
        var restarted = try core(wall: threeAM + 10_000, slots: ["tick": threeAM])
        #expect(tick(&restarted, wall: threeAM + 10_000, now: 1_000) == [], "the 03:00 slot was recorded before the restart")
        var later = try core(wall: threeAM + 3 * 60_000 + 5_000, slots: ["tick": threeAM])
        #expect(tick(&later, wall: threeAM + 3 * 60_000 + 5_000, now: 1_000) == [threeAM + 60_000, threeAM + 120_000, threeAM + 180_000])
        var outside = try core(catchUp: 90_000, wall: threeAM + 10 * 60_000, slots: ["tick": threeAM])
        #expect(
            tick(&outside, wall: threeAM + 10 * 60_000, now: 1_000) == [threeAM + 9 * 60_000, threeAM + 10 * 60_000],
            "older slots are past the catch-up window")
    }

    @Test("a slot fires at the first tick after it even with catch_up_s = 0 and ticks a heartbeat interval apart")
    func shortCatchUp() throws {
        // Ticks at most 5 s apart: each slot fires at the next tick, however short the window.
        var fast = try core(catchUp: 0, interval: 5_000, wall: threeAM - 1_000, slots: ["tick": threeAM - 60_000])
        #expect(tick(&fast, wall: threeAM - 1_000, now: 1_000) == [])
        #expect(tick(&fast, wall: threeAM + 4_000, now: 6_000) == [threeAM], "not only a tick on the slot's millisecond")
        #expect(tick(&fast, wall: threeAM + 64_000, now: 66_000) == [threeAM + 60_000])
        // The longest heartbeat interval (60 s), and a tick a few milliseconds late: the slot just
        // after the earlier tick still fires.
        var slow = try core(catchUp: 0, interval: 60_000, wall: threeAM - 1, slots: ["tick": threeAM - 60_000])
        #expect(tick(&slow, wall: threeAM - 1, now: 1_000) == [])
        #expect(tick(&slow, wall: threeAM + 60_005, now: 61_006) == [threeAM, threeAM + 60_000])
    }
}
