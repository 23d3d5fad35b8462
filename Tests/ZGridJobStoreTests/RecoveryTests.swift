import Foundation
import Testing
import ZGridJobStore

@Suite("Recovery")
struct RecoveryTests {
    @Test("recover() after reopening returns the unfinished jobs by id, the highest id ever used and the schedule slots")
    func recoverAfterReopen() throws {
        try withTemporaryDirectory { directory throws in
            let path = directory.file("jobs.sqlite")
            var expected: [JobRecord] = []
            try withStartedStore(at: path) { store, recorder throws in
                var writes: [StoreWrite] = []
                for (offset, state) in JobState.allCases.enumerated() {
                    let job = makeJob(Int64(20 - offset), state: state, tags: ["t\(offset)"])
                    writes.append(.upsert(job))
                    if !state.isTerminal { expected.append(job) }
                }
                writes.append(.upsert(makeJob(500, state: .queued)))
                writes.append(.scheduleFired(name: "hourly", slot: 10, cron: "0 * * * *"))
                writes.append(.scheduleFired(name: "daily", slot: 3, cron: "0 3 * * *"))
                store.write(writes, token: 1)
                store.write([.delete(500), .scheduleFired(name: "hourly", slot: 11, cron: "5 * * * *")], token: 2)
                recorder.waitForCommits([1, 2])
            }
            let reopened = try JobStore(path: path)
            defer { reopened.close() }
            let recovered = try reopened.recover()
            #expect(recovered.unfinished == expected.sorted { $0.id < $1.id })
            #expect(recovered.maxID == 500)
            #expect(
                recovered.scheduleSlots == [
                    "hourly": ScheduleSlot(slot: 11, cron: "5 * * * *"), "daily": ScheduleSlot(slot: 3, cron: "0 3 * * *"),
                ])
        }
    }

    @Test("recover() of a new store is empty")
    func recoverEmpty() throws {
        try withTemporaryDirectory { directory throws in
            let store = try JobStore(path: directory.file("jobs.sqlite"))
            defer { store.close() }
            let recovered = try store.recover()
            #expect(recovered.unfinished.isEmpty)
            #expect(recovered.maxID == 0)
            #expect(recovered.scheduleSlots.isEmpty)
        }
    }

    @Test("committed jobs survive a store that is never closed (files copied as a crash leaves them)")
    func committedJobsSurviveCrash() throws {
        try withTemporaryDirectory { directory throws in
            let path = directory.file("jobs.sqlite")
            let crashed = try JobStore(path: path)
            let recorder = EventRecorder()
            crashed.start(events: recorder.callback)
            let jobCount = 2000
            for call in 0..<20 {
                let jobs = (0..<jobCount / 20).map { makeJob(Int64(call * jobCount / 20 + $0 + 1)) }
                crashed.write(jobs.map { .upsert($0) }, token: UInt64(call))
            }
            recorder.waitForCommits(0..<20)

            // What SIGKILL leaves on disk: the database and its WAL, with no checkpoint and no shutdown.
            let snapshot = directory.file("snapshot.sqlite")
            for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: path + suffix) {
                try FileManager.default.copyItem(atPath: path + suffix, toPath: snapshot + suffix)
            }
            let fromSnapshot = try JobStore(path: snapshot)
            let snapshotRecovery = try fromSnapshot.recover()
            fromSnapshot.close()
            #expect(snapshotRecovery.unfinished.count == jobCount)
            #expect(snapshotRecovery.maxID == Int64(jobCount))

            #expect(snapshotRecovery.unfinished.map(\.id) == (1...Int64(jobCount)).map { $0 })
            #expect(snapshotRecovery.unfinished.last == makeJob(Int64(jobCount)))

            // A second store on the file while the first is open is refused (a killed process's lock
            // goes with it; `LifecycleTests` covers the refusal).
            #expect(throws: JobStoreError.self) { try JobStore(path: path) }
            crashed.close()
        }
    }
}
