import GRDB
import Testing

@testable import ZGridJobStore

@Suite("Stores written before schedule rows recorded their cron expression")
struct ScheduleMigrationTests {
    @Test("a version-3 store opens, migrates, recovers its slot with no expression, and records one from the next fire on")
    func versionThreeStore() throws {
        try withTemporaryDirectory { directory throws in
            let path = directory.file("jobs.sqlite")
            let old = try DatabaseQueue(path: path)
            try StoreSchema.migrator.migrate(old, upTo: "v3: queue control keys")
            try old.write { db in try db.execute(sql: "INSERT INTO schedules (name, last_slot) VALUES ('nightly', 42)") }
            try old.close()
            try withStartedStore(at: path) { store, recorder throws in
                #expect(try store.recover().scheduleSlots == ["nightly": ScheduleSlot(slot: 42, cron: nil)])
                store.write([.scheduleFired(name: "nightly", slot: 43, cron: "0 3 * * *")], token: 1)
                recorder.waitForCommits([1])
            }
            let reopened = try JobStore(path: path)
            defer { reopened.close() }
            #expect(try reopened.recover().scheduleSlots == ["nightly": ScheduleSlot(slot: 43, cron: "0 3 * * *")])
        }
    }
}
