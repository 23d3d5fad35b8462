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
                    try answer(
                        .purge(states: everyState, finishedBefore: 500, function: "a", tag: nil), store: store, recorder: recorder, token: 2
                    )
                        == .purged(1))
                #expect(
                    try answer(
                        .purge(states: [.succeeded], finishedBefore: 500, function: nil, tag: nil), store: store, recorder: recorder,
                        token: 3)
                        == .purged(0))
                #expect(
                    try answer(
                        .purge(states: [], finishedBefore: 5000, function: nil, tag: nil), store: store, recorder: recorder, token: 4)
                        == .purged(0))
                #expect(
                    try answer(
                        .purge(states: everyState, finishedBefore: 500, function: nil, tag: nil), store: store, recorder: recorder, token: 5
                    )
                        == .purged(2))
                let left = try jobs(of: answer(.jobs(JobFilter()), store: store, recorder: recorder, token: 6))
                #expect(left.map(\.id) == [3, 4, 5])
                let recovered = try store.recover()
                #expect(recovered.maxID == 6)
            }
        }
    }

    @Test("purge by tag deletes only finished jobs carrying exactly that tag; a tag no job can carry deletes none")
    func purgeByTag() throws {
        try withTemporaryDirectory { directory throws in
            try withStartedStore(at: directory.file("jobs.sqlite")) { store, recorder throws in
                store.write(
                    [
                        .upsert(makeJob(1, state: .succeeded, tags: ["keep"], finishedAt: 100)),
                        .upsert(makeJob(2, state: .succeeded, tags: ["junk", "x"], finishedAt: 100)),
                        .upsert(makeJob(3, state: .dead, tags: ["x", "junk"], finishedAt: 100)),
                        .upsert(makeJob(4, state: .succeeded, tags: ["junkyard"], finishedAt: 100)),
                        .upsert(makeJob(5, state: .queued, tags: ["junk"])),
                        .upsert(makeJob(6, state: .cancelled, finishedAt: 100)),
                    ], token: 1)
                let finished = Set(JobState.allCases)
                var token: UInt64 = 1
                func purge(_ tag: String) throws -> StoreReadResult {
                    token += 1
                    return try answer(
                        .purge(states: finished, finishedBefore: 500, function: nil, tag: tag), store: store, recorder: recorder,
                        token: token)
                }
                #expect(try purge("") == .purged(0), "an empty tag is no tag, not the jobs without tags")
                #expect(try purge("junk,x") == .purged(0), "a tag with a comma is no tag, not two adjacent ones")
                #expect(try purge("junk") == .purged(2))
                token += 1
                let left = try jobs(of: answer(.jobs(JobFilter()), store: store, recorder: recorder, token: token))
                #expect(left.map(\.id) == [1, 4, 5, 6])
                token += 1
                let untagged = try jobs(of: answer(.jobs(JobFilter(tag: "")), store: store, recorder: recorder, token: token))
                #expect(untagged.isEmpty, "LIST agrees: an empty tag matches no job")
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
