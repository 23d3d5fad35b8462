import ZGridJobStore
import ZGridProtocol

/// Recurring jobs: the broker submits a job at the slots of each schedule's cron expression.
extension BrokerCore {
    /// Takes each schedule's recorded slot. A schedule whose cron expression differs from the one
    /// its slot was computed from starts over from now, as a new schedule does: the slots the new
    /// expression had while the broker was down are not caught up. That is logged, and its row is
    /// rewritten with the new expression.
    mutating func recoverScheduleSlots(_ slots: [String: ScheduleSlot], into actions: inout [BrokerAction]) {
        for (name, recovered) in slots { scheduleSlots[name] = recovered.slot }
        if nextScheduleDue != nil { nextScheduleDue = .min }  // walked again at the next tick
        for schedule in options.schedules {
            guard let recorded = slots[schedule.name]?.cron else { continue }  // unknown in an older store: unchanged
            if let old = try? CronExpression(parsing: recorded), old.hasSameSlots(as: schedule.cron) { continue }
            // From a minute back, as a schedule with no slot on record.
            let start = wallNow - 60_000
            scheduleSlots[schedule.name] = start
            actions.append(
                storeWrite([.scheduleFired(name: schedule.name, slot: start, cron: schedule.cron.description)], token: takeToken()))
            actions.append(.notice(.scheduleChanged(name: schedule.name, from: recorded, to: schedule.cron.description)))
        }
    }

    /// Submits the jobs of the schedule slots due since each schedule's last fired slot (within its
    /// catch-up window), recording the slot in the same store transaction as the job: one job for
    /// the latest of them (``ScheduleCatchUp/latest``, the others coalesced into it), or one each.
    ///
    /// The schedules are walked only when ``nextScheduleDue`` has come (the core's wakeup asks for a
    /// tick then), or when the wall clock has gone back since the last walk.
    mutating func fireSchedules(into actions: inout [BrokerAction]) {
        guard let due = nextScheduleDue, due <= wallNow || wallNow < schedulesWalkedAt else { return }
        schedulesWalkedAt = wallNow
        // A schedule with no slot within a day is looked at again then.
        var next = wallNow + 86_400_000
        for schedule in options.schedules {
            // The core asks for a tick at each slot, but a tick may come late (a long pass of the
            // loop, a stalled process, a wall clock stepped forward): a window of at least a minute
            // plus a heartbeat interval still fires the slot at it.
            let oldest = wallNow - max(schedule.catchUpMilliseconds, 60_000 + options.heartbeat.intervalMilliseconds) - 1
            var after = max(scheduleSlots[schedule.name] ?? (wallNow - 60_000), oldest)
            switch schedule.catchUp {
            case .all:
                for slot in schedule.cron.slots(after: after, until: wallNow, limit: 100) {
                    fire(schedule, slot: slot, into: &actions)
                    after = slot
                }
            case .latest:
                guard let first = schedule.cron.firstSlot(after: after, until: wallNow) else { break }
                var latest = first
                var missed = 0
                while let slot = schedule.cron.firstSlot(after: latest, until: wallNow) {
                    latest = slot
                    missed += 1
                }
                var note: String?
                if missed > 0 {
                    statistics.scheduleSlotsCoalesced += missed
                    let coalesced = BrokerNotice.scheduleSlotsCoalesced(name: schedule.name, count: missed, first: first, slot: latest)
                    actions.append(.notice(coalesced))
                    note = coalesced.description
                }
                fire(schedule, slot: latest, note: note, into: &actions)
                after = latest
            }
            // A later walk fires only slots after `after` (its window only moves on): the first of
            // them is when to walk again. Past already when this walk stopped at its limit.
            if let slot = schedule.cron.firstSlot(after: after, until: next) { next = slot }
        }
        nextScheduleDue = next
    }

    /// Submits the job of `schedule`'s `slot` and records the slot with it, or records the slot
    /// alone when admission control refuses the job. `note` goes with the job's `queued` event.
    private mutating func fire(_ schedule: RecurringJob, slot: Int64, note: String? = nil, into actions: inout [BrokerAction]) {
        scheduleSlots[schedule.name] = slot
        let fired = StoreWrite.scheduleFired(name: schedule.name, slot: slot, cron: schedule.cron.description)
        // Admitted like a SUBMIT: at the function's limits the slot is skipped (recorded as
        // fired, so a restart does not fire it either) rather than queued past them.
        if let (message, _) = jobRefusal(schedule.function, priority: schedule.priority, runsNow: true, now: lastNow) {
            actions.append(storeWrite([fired], token: takeToken()))
            actions.append(.notice(.scheduleSlotSkipped(name: schedule.name, slot: slot, reason: message)))
            return
        }
        let id = nextJobID
        nextJobID += 1
        let record = JobRecord(
            id: id, function: schedule.function, payload: schedule.payload, state: .queued, priority: schedule.priority,
            attempts: 0, maxAttempts: schedule.maxAttempts, backoffMilliseconds: 1000,
            timeLimitMilliseconds: options.defaultJobTimeLimitMilliseconds,
            resultTTLMilliseconds: options.defaultResultTTLMilliseconds,
            uniqueKey: nil, tags: schedule.tags + ["schedule:\(schedule.name)"], runAt: wallNow, createdAt: wallNow,
            updatedAt: wallNow)
        jobs[id] = JobEntry(record: record, durable: false, dispatchID: nil)
        if let note { scheduleNotes[id] = note }
        let token = takeToken()
        pendingAcks[token] = [(ClientRequest(client: Self.jobClient, requestID: 0), id)]
        actions.append(storeWrite([.upsert(record), fired], token: token))
    }
}
