import Testing
import ZGridJobStore

@Suite("Group commit")
struct GroupCommitTests {
    @Test("write calls queued together commit in one transaction with all their tokens")
    func batchCommitsTogether() throws {
        try withTemporaryDirectory { directory throws in
            let store = try JobStore(path: directory.file("jobs.sqlite"))
            defer { store.close() }
            for call in 0..<5 {
                let jobs = (0..<100).map { makeJob(Int64(call * 100 + $0 + 1)) }
                store.write(
                    jobs.map { .upsert($0) } + [.scheduleFired(name: "nightly", slot: Int64(call), cron: "0 3 * * *")],
                    token: UInt64(call + 1))
            }
            let recorder = EventRecorder()
            store.start(events: recorder.callback)
            let events = recorder.waitForCommits(1...5)
            #expect(events == [.committed(tokens: [1, 2, 3, 4, 5], jobs: 500)])
        }
    }

    @Test("the last upsert of an id in a batch wins")
    func lastUpsertWins() throws {
        try withTemporaryDirectory { directory throws in
            let store = try JobStore(path: directory.file("jobs.sqlite"))
            defer { store.close() }
            var first = makeJob(7, tags: ["a"])
            first.uniqueKey = "u"
            var second = first
            second.state = .running
            second.attempts = 1
            second.worker = "w1"
            second.uniqueKey = nil
            second.tags = []
            var third = second
            third.state = .succeeded
            third.result = [1, 2]
            third.finishedAt = 99
            store.write([.upsert(first), .upsert(second)], token: 1)
            store.write([.upsert(third)], token: 2)
            store.write([.upsert(makeJob(8)), .delete(8)], token: 3)
            let recorder = EventRecorder()
            store.start(events: recorder.callback)
            let events = recorder.waitForCommits(1...3)
            #expect(events == [.committed(tokens: [1, 2, 3], jobs: 5)])
            #expect(try jobs(of: answer(.job(7), store: store, recorder: recorder, token: 10)) == [third])
            #expect(try jobs(of: answer(.job(8), store: store, recorder: recorder, token: 11)).isEmpty)
        }
    }

    @Test("reads are answered in order and see exactly the writes queued before them")
    func readsSeeEarlierWrites() throws {
        try withTemporaryDirectory { directory throws in
            let store = try JobStore(path: directory.file("jobs.sqlite"))
            defer { store.close() }
            let all = JobFilter()
            store.write([.upsert(makeJob(1))], token: 1)
            store.read(.jobs(all), token: 2)
            store.write([.upsert(makeJob(2))], token: 3)
            store.write([.upsert(makeJob(3))], token: 4)
            store.read(.jobs(all), token: 5)
            store.write([.delete(1)], token: 6)
            store.read(.jobs(all), token: 7)
            let recorder = EventRecorder()
            store.start(events: recorder.callback)
            let events = recorder.wait { $0.count == 6 }
            #expect(
                events == [
                    .committed(tokens: [1], jobs: 1),
                    .read(token: 2, .success(.jobs([makeJob(1)]))),
                    .committed(tokens: [3, 4], jobs: 2),
                    .read(token: 5, .success(.jobs([makeJob(1), makeJob(2), makeJob(3)]))),
                    .committed(tokens: [6], jobs: 1),
                    .read(token: 7, .success(.jobs([makeJob(2), makeJob(3)]))),
                ])
        }
    }

    @Test("writes from many threads all commit, grouped into fewer transactions")
    func concurrentWriters() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try JobStore(path: directory.file("jobs.sqlite"))
        defer { store.close() }
        let recorder = EventRecorder()
        store.start(events: recorder.callback)
        await withTaskGroup(of: Void.self) { group in
            for writer in 0..<4 {
                group.addTask {
                    for call in 0..<250 {
                        let id = Int64(writer * 1000 + call + 1)
                        store.write([.upsert(makeJob(id))], token: UInt64(id))
                    }
                }
            }
        }
        let tokens = (0..<4).flatMap { writer in (0..<250).map { UInt64(writer * 1000 + $0 + 1) } }
        let events = recorder.waitForCommits(tokens)
        var committedJobs = 0
        for case .committed(_, let jobs) in events {
            committedJobs += jobs
        }
        #expect(committedJobs == 1000)
        #expect(events.count <= 1000)
        let counts = try answer(.counts, store: store, recorder: recorder, token: 1_000_000)
        #expect(
            counts
                == .counts([.queued: 1000, .scheduled: 0, .running: 0, .succeeded: 0, .failed: 0, .dead: 0, .cancelled: 0, .deferred: 0]))
    }
}
