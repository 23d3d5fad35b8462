import Testing
import ZGridJobStore
import ZGridProtocol

@testable import ZGridBroker

@Suite("Recurring jobs fire once per slot, across restarts")
struct ScheduleTests {
    /// 2026-11-29 03:00 UTC.
    let threeAM: Int64 = 1_795_921_200_000

    private func core(
        schedule: String = "*/1 * * * *", catchUp: Int64 = 3_600_000, missed: ScheduleCatchUp = .all, interval: Int64 = 1000, wall: Int64,
        slots: [String: Int64] = [:], functions: [String: FunctionPolicy] = [:]
    ) throws -> BrokerCore {
        let recurring = RecurringJob(
            name: "tick", cron: try CronExpression(parsing: schedule), function: "f", catchUpMilliseconds: catchUp, catchUp: missed)
        var options = BrokerOptions(heartbeat: HeartbeatSettings(intervalMilliseconds: interval), schedules: [recurring])
        options.functions = functions
        var core = BrokerCore(options: options, now: 0)
        core.wallNow = wall
        var ignored: [BrokerAction] = []
        core.recoverJobs(
            [], maxID: 0, scheduleSlots: slots.mapValues { ScheduleSlot(slot: $0, cron: nil) }, now: 0, into: &ignored)
        return core
    }

    /// The slots fired by a tick at `wall`, as recorded in store writes.
    private func tick(_ core: inout BrokerCore, wall: Int64, now: Int64) -> [Int64] {
        core.wallNow = wall
        var actions: [BrokerAction] = []
        core.handle(.tick, now: now, into: &actions)
        return actions.flatMap { action -> [Int64] in
            guard case .storeWrite(let writes, _) = action else { return [] }
            return writes.compactMap { if case .scheduleFired("tick", let slot, _) = $0 { slot } else { nil } }
        }
    }

    /// Drives `core` as the broker loop does: a tick only once its monotonic clock reaches the core's
    /// next wakeup, the wall clock `wallAtZero` + the monotonic one. Returns each fired slot with the
    /// wall time of the tick that fired it, until the monotonic clock would pass `until`.
    private func runAsTheLoop(_ core: inout BrokerCore, wallAtZero: Int64, until: Int64) -> [(slot: Int64, firedAt: Int64)] {
        var fired: [(slot: Int64, firedAt: Int64)] = []
        var now: Int64 = 0
        for _ in 0..<1000 {
            now = max(now, core.nextWakeup)
            guard now <= until else { break }
            fired += tick(&core, wall: wallAtZero + now, now: now).map { ($0, wallAtZero + now) }
        }
        return fired
    }

    @Test("each minute's slot fires once however often the broker ticks")
    func oncePerSlot() throws {
        var core = try core(wall: threeAM + 5_000)
        #expect(tick(&core, wall: threeAM + 5_000, now: 1_000) == [threeAM])
        #expect(tick(&core, wall: threeAM + 30_000, now: 2_000) == [])
        #expect(tick(&core, wall: threeAM + 61_000, now: 3_000) == [threeAM + 60_000])
        #expect(core.jobCounts["queued"] == 2)
    }

    @Test("at the function's max_queued_jobs a slot is skipped, recorded and logged, not queued past the limit")
    func slotsRespectTheLimit() throws {
        var core = try core(wall: threeAM + 5_000, functions: ["f": FunctionPolicy(maxQueuedJobs: 2)])
        var fired: [Int64] = []
        var skipped: [BrokerNotice] = []
        for minute in Int64(0)..<4 {
            core.wallNow = threeAM + minute * 60_000 + 5_000
            var actions: [BrokerAction] = []
            core.handle(.tick, now: 1_000 + minute * 60_000, into: &actions)
            for action in actions {
                if case .storeWrite(let writes, _) = action {
                    fired += writes.compactMap { if case .scheduleFired("tick", let slot, _) = $0 { slot } else { nil } }
                }
                if case .notice(let notice) = action { skipped.append(notice) }
            }
        }
        #expect(fired == (0..<4).map { threeAM + $0 * 60_000 }, "every slot is recorded, with a job or not")
        #expect(core.waitingJobs(of: "f") == 2, "no worker runs them: two jobs, the limit")
        #expect(core.jobCounts["queued"] == 2)
        #expect(skipped.count == 2)
        #expect(
            skipped.first?.description
                == "schedule 'tick' skipped its slot of 2026-11-29T03:02:00Z: 2 jobs waiting (queued, delayed or deferred) for 'f', the most allowed is 2"
        )
    }

    @Test("with catch_up = \"all\", after a restart a fired slot does not fire again, and missed slots within catch-up do")
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

    @Test("the core wakes for the next slot: with a 60 s heartbeat interval each slot fires on its minute")
    func firesOnTheSlot() throws {
        // The 03:00 slot is on record and the broker starts at 03:00:30; heartbeats are 60 s apart.
        var core = try core(interval: 60_000, wall: threeAM + 30_000, slots: ["tick": threeAM])
        let fired = runAsTheLoop(&core, wallAtZero: threeAM + 30_000, until: 160_000)
        #expect(fired.map(\.slot) == [threeAM + 60_000, threeAM + 120_000, threeAM + 180_000])
        #expect(fired.map(\.firedAt) == fired.map(\.slot), "each slot fires at its minute, not at the next heartbeat")
        // Between slots the core sleeps until the next one (or the next heartbeat, if sooner).
        #expect(tick(&core, wall: threeAM + 200_000, now: 170_000) == [])
        #expect(core.nextWakeup == 180_000, "the heartbeat at 180 s, before the 03:04 slot")
        #expect(tick(&core, wall: threeAM + 210_000, now: 180_000) == [])
        #expect(core.nextWakeup == 210_000, "the 03:04 slot")
    }

    @Test("a sparse schedule wakes the core on its slot; a backlog over 100 slots fires over ticks at once")
    func sparseAndBacklog() throws {
        // 12:00 daily, from 11:59:50 (a never-fired schedule looks back a minute: nothing then).
        let noon = threeAM + 9 * 3_600_000
        var daily = try core(schedule: "0 12 * * *", interval: 60_000, wall: noon - 10_000)
        #expect(runAsTheLoop(&daily, wallAtZero: noon - 10_000, until: 30_000).map(\.firedAt) == [noon])
        // Three hours of minute slots missed, within a four-hour window: 100 fire at the first tick,
        // and the core asks for the next tick at once for the other 80, not a heartbeat later.
        var behind = try core(catchUp: 4 * 3_600_000, interval: 60_000, wall: threeAM, slots: ["tick": threeAM - 3 * 3_600_000])
        #expect(tick(&behind, wall: threeAM, now: 1_000).count == 100)
        #expect(behind.nextWakeup == 1_000)
        #expect(tick(&behind, wall: threeAM + 5, now: 1_005).count == 80)
    }

    @Test("after the wall clock steps back, a never-fired schedule still fires the slot it comes to")
    func wallClockStepsBack() throws {
        let noon = threeAM + 9 * 3_600_000
        var daily = try core(schedule: "0 12 * * *", interval: 60_000, wall: noon + 3_600_000)
        #expect(tick(&daily, wall: noon + 3_600_000, now: 1_000) == [], "13:00: noon is more than a minute back")
        // The clock is stepped back to 11:59:30: noon comes again and fires, as without the step.
        #expect(tick(&daily, wall: noon - 30_000, now: 2_000) == [])
        #expect(daily.nextWakeup == 32_000)
        #expect(tick(&daily, wall: noon, now: 32_000) == [noon])
    }
}

@Suite("Missed schedule slots coalesce into one job by default (catch_up = \"latest\")")
struct ScheduleCatchUpTests {
    /// 2026-11-29 03:00 UTC.
    let threeAM: Int64 = 1_795_921_200_000

    /// A core with the every-minute schedule "tick" (default catch-up), recovered with `slots`.
    private func core(wall: Int64, slots: [String: Int64], catchUp: Int64 = 3_600_000) throws -> BrokerCore {
        let recurring = RecurringJob(
            name: "tick", cron: try CronExpression(parsing: "* * * * *"), function: "f", catchUpMilliseconds: catchUp)
        var core = BrokerCore(options: BrokerOptions(schedules: [recurring]), now: 0)
        core.wallNow = wall
        var ignored: [BrokerAction] = []
        core.recoverJobs(
            [], maxID: 0, scheduleSlots: slots.mapValues { ScheduleSlot(slot: $0, cron: nil) }, now: 0, into: &ignored)
        return core
    }

    @Test("ten minutes down: one job, for the latest slot; the nine before it are counted, logged and noted in its queued event")
    func coalesced() throws {
        var core = try core(wall: threeAM + 10 * 60_000 + 5_000, slots: ["tick": threeAM])
        var actions: [BrokerAction] = []
        core.handle(.tick, now: 1_000, into: &actions)
        var fired: [Int64] = []
        var jobs = 0
        var tokens: [UInt64] = []
        for case .storeWrite(let writes, let token) in actions {
            fired += writes.compactMap { if case .scheduleFired("tick", let slot, _) = $0 { slot } else { nil } }
            jobs += writes.filter { if case .upsert = $0 { true } else { false } }.count
            tokens.append(token)
        }
        #expect(fired == [threeAM + 10 * 60_000], "the latest missed slot is the one recorded")
        #expect(jobs == 1)
        #expect(core.statistics.scheduleSlotsCoalesced == 9)
        #expect(core.statistics.named["schedule_slots_coalesced"] == 9)
        let notices = actions.compactMap { if case .notice(let notice) = $0 { notice.description } else { nil } }
        let line =
            "schedule 'tick' missed 10 slots (2026-11-29T03:01:00Z to 2026-11-29T03:10:00Z): one job for the latest, "
            + "9 earlier slots coalesced into it (catch_up = \"latest\")"
        #expect(notices == [line])
        actions.removeAll()
        core.handle(.storeCommitted(tokens: tokens), now: 1_001, into: &actions)
        let queued = actions.compactMap { if case .publish(let event) = $0, event.kind == "queued" { event } else { nil } }
        #expect(queued.count == 1)
        #expect(queued.first?.message == line)
        #expect(queued.first?.tags == ["schedule:tick"])
        // The next minute is no catch-up: it fires alone, with no note.
        core.wallNow = threeAM + 11 * 60_000
        actions.removeAll()
        core.handle(.tick, now: 56_000, into: &actions)
        #expect(actions.contains { if case .notice = $0 { true } else { false } } == false)
        #expect(core.statistics.scheduleSlotsCoalesced == 9)
        #expect(core.jobCounts["queued"] == 2)
    }

    @Test("slots older than catch_up_s are neither fired nor counted; one missed slot is no coalescing")
    func windowAndSingleSlot() throws {
        var core = try core(wall: threeAM + 10 * 60_000, slots: ["tick": threeAM], catchUp: 150_000)
        var actions: [BrokerAction] = []
        core.handle(.tick, now: 1_000, into: &actions)
        #expect(core.statistics.scheduleSlotsCoalesced == 2, "08:00 and 09:00 within 150 s, 10:00 fired")
        var single = try self.core(wall: threeAM + 60_000 + 5_000, slots: ["tick": threeAM])
        actions.removeAll()
        single.handle(.tick, now: 1_000, into: &actions)
        #expect(single.statistics.scheduleSlotsCoalesced == 0)
        #expect(single.jobCounts["queued"] == 1)
    }

    @Test("at the function's max_queued_jobs the coalesced slot is skipped and recorded all the same")
    func coalescedSlotRefused() throws {
        let recurring = RecurringJob(name: "tick", cron: try CronExpression(parsing: "* * * * *"), function: "f")
        var options = BrokerOptions(schedules: [recurring])
        options.functions = ["f": FunctionPolicy(maxQueuedJobs: 0)]
        var core = BrokerCore(options: options, now: 0)
        core.wallNow = threeAM + 5 * 60_000
        var actions: [BrokerAction] = []
        core.recoverJobs([], maxID: 0, scheduleSlots: ["tick": ScheduleSlot(slot: threeAM, cron: "* * * * *")], now: 0, into: &actions)
        core.handle(.tick, now: 1_000, into: &actions)
        let writes = actions.flatMap { action -> [StoreWrite] in if case .storeWrite(let writes, _) = action { writes } else { [] } }
        #expect(writes == [.scheduleFired(name: "tick", slot: threeAM + 5 * 60_000, cron: "* * * * *")])
        #expect(core.statistics.scheduleSlotsCoalesced == 4)
        #expect(actions.contains { if case .notice(.scheduleSlotSkipped) = $0 { true } else { false } })
    }
}
