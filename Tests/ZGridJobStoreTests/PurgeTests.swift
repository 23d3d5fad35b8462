import Testing
import ZGridJobStore

@Suite("Purge")
struct PurgeTests {
    @Test("purge deletes finished jobs finished before the cut-off, optionally of one function, never live ones")
    func purge() throws {
        try withTemporaryDirectory { directory throws in
            try withStartedStore(at: directory.file("jobs.sqlite")) { store, recorder throws in
                var noFinishTime = makeJob(6, state: .cancelled)
                noFinishTime.updatedAt = 50
                store.write(
                    [
                        .upsert(makeJob(1, function: "a", state: .succeeded, finishedAt: 100)),
                        .upsert(makeJob(2, function: "b", state: .dead, finishedAt: 100)),
                        .upsert(makeJob(3, function: "a", state: .failed, finishedAt: 1000)),
                        .upsert(makeJob(4, function: "a", state: .queued)),
                        .upsert(makeJob(5, function: "a", state: .running, finishedAt: 10)),
                        .upsert(noFinishTime),
                    ], token: 1)
                let everyState = Set(JobState.allCases)
                #expect(
                    try answer(.purge(states: everyState, finishedBefore: 500, function: "a"), store: store, recorder: recorder, token: 2)
                        == .purged(1))
                #expect(
                    try answer(.purge(states: [.succeeded], finishedBefore: 500, function: nil), store: store, recorder: recorder, token: 3)
                        == .purged(0))
                #expect(
                    try answer(.purge(states: [], finishedBefore: 5000, function: nil), store: store, recorder: recorder, token: 4)
                        == .purged(0))
                #expect(
                    try answer(.purge(states: everyState, finishedBefore: 500, function: nil), store: store, recorder: recorder, token: 5)
                        == .purged(2))
                let left = try jobs(of: answer(.jobs(JobFilter()), store: store, recorder: recorder, token: 6))
                #expect(left.map(\.id) == [3, 4, 5])
                let recovered = try store.recover()
                #expect(recovered.maxID == 6)
            }
        }
    }
}

@Suite("Expiry of finished jobs' results")
struct ExpiryTests {
    @Test("expire deletes finished jobs past their own result TTL and keeps the rest")
    func expire() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try JobStore(path: directory.file("jobs.sqlite"))
        let recorder = EventRecorder()
        store.start(events: recorder.callback)
        let now: Int64 = 1_000_000
        let old = JobRecord(
            id: 1, function: "f", payload: [], state: .succeeded, resultTTLMilliseconds: 100, createdAt: 0, finishedAt: now - 200)
        let fresh = JobRecord(
            id: 2, function: "f", payload: [], state: .succeeded, resultTTLMilliseconds: 1000, createdAt: 0, finishedAt: now - 200)
        let live = JobRecord(id: 3, function: "f", payload: [], state: .queued, resultTTLMilliseconds: 1, createdAt: 0)
        store.write([.upsert(old), .upsert(fresh), .upsert(live)], token: 1)
        store.read(.expire(now: now), token: 2)
        store.read(.jobs(JobFilter()), token: 3)
        #expect(recorder.waitForRead(2) == .success(.purged(1)))
        #expect(recorder.waitForRead(3) == .success(.jobs([fresh, live])))
        store.close()
    }
}
