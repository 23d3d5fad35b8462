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
                store.write([
                    .upsert(makeJob(1, function: "a", state: .succeeded, finishedAt: 100)),
                    .upsert(makeJob(2, function: "b", state: .dead, finishedAt: 100)),
                    .upsert(makeJob(3, function: "a", state: .failed, finishedAt: 1000)),
                    .upsert(makeJob(4, function: "a", state: .queued)),
                    .upsert(makeJob(5, function: "a", state: .running, finishedAt: 10)),
                    .upsert(noFinishTime),
                ], token: 1)
                let everyState = Set(JobState.allCases)
                #expect(try answer(.purge(states: everyState, finishedBefore: 500, function: "a"), store: store, recorder: recorder, token: 2)
                    == .purged(1))
                #expect(try answer(.purge(states: [.succeeded], finishedBefore: 500, function: nil), store: store, recorder: recorder, token: 3)
                    == .purged(0))
                #expect(try answer(.purge(states: [], finishedBefore: 5000, function: nil), store: store, recorder: recorder, token: 4)
                    == .purged(0))
                #expect(try answer(.purge(states: everyState, finishedBefore: 500, function: nil), store: store, recorder: recorder, token: 5)
                    == .purged(2))
                let left = try jobs(of: answer(.jobs(JobFilter()), store: store, recorder: recorder, token: 6))
                #expect(left.map(\.id) == [3, 4, 5])
                let recovered = try store.recover()
                #expect(recovered.maxID == 6)
            }
        }
    }
}
