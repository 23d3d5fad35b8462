import Testing
import ZGridProtocol

@Suite("When a loop trims its heap after a burst")
struct TrimAfterBurstTests {
    @Test("a burst is trimmed once, one quiet interval after its last work; an idle or a steadily busy loop is never trimmed")
    func trimsOnceAfterBurst() {
        var trim = TrimAfterBurst(intervalMilliseconds: 1000)
        // (time, activity count, whether that check trims)
        let checks: [(Int64, UInt64, Bool)] = [
            (0, 0, false), (5000, 0, false),  // idle from the start: nothing to give back
            (6000, 10, false), (7000, 20, false),  // busy: the count moves at every check
            (7500, 20, false),  // within the interval: waits for it to pass
            (8000, 20, true),  // quiet for a whole interval: trimmed, once
            (9000, 20, false), (20_000, 20, false),
            (21_000, 25, false), (22_000, 25, true),  // the next burst, after its own quiet interval
        ]
        for (now, activity, trims) in checks {
            let trimmed = trim.check(now: now, activity: activity)
            #expect(trimmed == trims, "at \(now) ms with activity \(activity)")
            if now == 6000 {
                let due = trim.nextDue
                #expect(due == 7000, "a loop that sleeps long wakes for the next check")
            }
        }
        let due = trim.nextDue
        #expect(due == nil, "no trim waits once the burst was trimmed")
    }
}
