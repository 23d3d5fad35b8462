import Foundation
import Synchronization
import Testing
import ZGridJobStore

@Suite("Lifecycle")
struct LifecycleTests {
    @Test("a path in a missing directory gives .cannotOpen with the path")
    func badPath() throws {
        let path = "/nonexistent-zgrid-\(UUID().uuidString)/jobs.sqlite"
        #expect {
            try JobStore(path: path)
        } throws: { error in
            guard case .cannotOpen(let failedPath, let reason) = error as? JobStoreError else { return false }
            return failedPath == path && !reason.isEmpty
        }
        #expect(throws: JobStoreError.cannotOpen(path: "", reason: "the path is empty")) { try JobStore(path: "") }
    }

    @Test("a store open in one place cannot be opened in another (two brokers would both run its jobs) until it is closed")
    func oneOpenStorePerFile() throws {
        try withTemporaryDirectory { directory throws in
            let path = directory.file("jobs.sqlite")
            let first = try JobStore(path: path)
            #expect {
                try JobStore(path: path)
            } throws: { error in
                guard case .cannotOpen(let failedPath, let reason) = error as? JobStoreError else { return false }
                return failedPath == path && reason.contains("another broker has this store open")
            }
            first.close()
            let second = try JobStore(path: path)
            second.close()
        }
    }

    @Test("a store closed while another thread starts child processes opens again at once: a child's copy of the lock is waited out")
    func reopenWhileChildrenStart() throws {
        let spawning = Atomic<Bool>(true)
        let spawner = Thread {
            while spawning.load(ordering: .relaxed) {
                let child = Process()
                child.executableURL = URL(fileURLWithPath: "/bin/true")
                guard (try? child.run()) != nil else { continue }
                child.waitUntilExit()
            }
        }
        spawner.start()
        defer { spawning.store(false, ordering: .relaxed) }
        try withTemporaryDirectory { directory throws in
            let path = directory.file("jobs.sqlite")
            for _ in 0..<300 {
                let store = try JobStore(path: path)
                store.close()
            }
        }
    }

    @Test("a second open is refused for the lock before it touches the file: not after waiting on the first broker's write")
    func lockBeforeTouchingTheFile() throws {
        try withTemporaryDirectory { directory throws in
            let path = directory.file("jobs.sqlite")
            let first = try JobStore(path: path)
            defer { first.close() }
            // Another connection (standing in for the first broker in the middle of a long commit)
            // holds the write lock for longer than SQLite's busy timeout.
            let writer = Process()
            writer.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            writer.arguments = [
                "python3", "-c",
                "import sqlite3,sys,time\nc=sqlite3.connect(sys.argv[1],isolation_level=None)\nc.execute('BEGIN IMMEDIATE')\n"
                    + "print('locked',flush=True)\ntime.sleep(8)",
                path,
            ]
            let output = Pipe()
            writer.standardOutput = output
            try writer.run()
            defer {
                kill(writer.processIdentifier, SIGKILL)
                writer.waitUntilExit()
            }
            let said = output.fileHandleForReading.availableData
            try #require(String(decoding: said, as: UTF8.self).hasPrefix("locked"), "python3 could not lock the store")
            #expect {
                try JobStore(path: path)
            } throws: { error in
                guard case .cannotOpen(_, let reason) = error as? JobStoreError else { return false }
                return reason.contains("another broker has this store open")
            }
        }
    }

    @Test("a file that is not a database gives .cannotOpen")
    func notADatabase() throws {
        try withTemporaryDirectory { directory throws in
            let path = directory.file("garbage.sqlite")
            try Data(repeating: 0x5A, count: 8192).write(to: URL(fileURLWithPath: path))
            #expect {
                try JobStore(path: path)
            } throws: { error in
                guard case .cannotOpen(let failedPath, _) = error as? JobStoreError else { return false }
                return failedPath == path
            }
        }
    }

    @Test("close commits what is queued, is idempotent, and later calls report .closed")
    func closeIsIdempotent() throws {
        try withTemporaryDirectory { directory throws in
            let path = directory.file("jobs.sqlite")
            let store = try JobStore(path: path)
            let recorder = EventRecorder()
            store.start(events: recorder.callback)
            store.write((1...300).map { .upsert(makeJob($0)) }, token: 1)
            store.read(.counts, token: 2)
            store.close()
            let beforeSecondClose = recorder.snapshot
            #expect(EventRecorder.committedTokens(in: beforeSecondClose) == [1])
            #expect(EventRecorder.answer(to: 2, in: beforeSecondClose) != nil)
            store.close()

            store.write([.upsert(makeJob(999))], token: 3)
            store.read(.job(1), token: 4)
            let late = EventRecorder()
            store.start(events: late.callback)
            #expect(
                Array(recorder.snapshot.dropFirst(beforeSecondClose.count)) == [
                    .failed(.closed, tokens: [3]), .read(token: 4, .failure(.closed)),
                ])
            #expect(late.snapshot == [.failed(.closed, tokens: [])])
            #expect(throws: JobStoreError.closed) { try store.recover() }

            let reopened = try JobStore(path: path)
            defer { reopened.close() }
            let recovered = try reopened.recover()
            #expect(recovered.unfinished.count == 300)
            #expect(recovered.maxID == 300)
        }
    }

    @Test("close of a store never started commits the queued writes")
    func closeWithoutStart() throws {
        try withTemporaryDirectory { directory throws in
            let path = directory.file("jobs.sqlite")
            let store = try JobStore(path: path)
            store.write([.upsert(makeJob(1)), .scheduleFired(name: "s", slot: 4, cron: "* * * * *")], token: 1)
            store.close()
            let reopened = try JobStore(path: path)
            defer { reopened.close() }
            let recovered = try reopened.recover()
            #expect(recovered.unfinished == [makeJob(1)])
            #expect(recovered.scheduleSlots == ["s": ScheduleSlot(slot: 4, cron: "* * * * *")])
        }
    }

    @Test("releasing a started store without close() commits what was queued")
    func releaseWithoutClose() throws {
        try withTemporaryDirectory { directory throws in
            let path = directory.file("jobs.sqlite")
            do {
                let store = try JobStore(path: path)
                store.start { _ in }
                store.write([.upsert(makeJob(1))], token: 1)
            }
            let reopened = try JobStore(path: path)
            defer { reopened.close() }
            #expect(try reopened.recover().unfinished == [makeJob(1)])
        }
    }

    @Test("close called from the events callback does not deadlock")
    func closeFromCallback() throws {
        try withTemporaryDirectory { directory throws in
            let store = try JobStore(path: directory.file("jobs.sqlite"))
            let recorder = EventRecorder()
            store.start { [weak store] event in  // the store keeps its callback: a strong capture is a cycle
                recorder.record(event)
                store?.close()
            }
            store.write([.upsert(makeJob(1))], token: 1)
            recorder.waitForCommits([1])
            store.close()
            #expect(throws: JobStoreError.closed) { try store.recover() }
        }
    }

    @Test("error descriptions name the problem")
    func descriptions() {
        #expect(JobStoreError.cannotOpen(path: "/x", reason: "nope").description == "cannot open job store at /x: nope")
        #expect(JobStoreError.database("disk full").description == "job store database error: disk full")
        #expect(JobStoreError.closed.description == "job store is closed")
    }
}

#if os(Linux)
    @Suite("Store thread")
    struct StoreThreadTests {
        @Test("the store's thread carries its name at the OS level, as `top -H` shows it")
        func osThreadName() throws {
            try withTemporaryDirectory { directory throws in
                let store = try JobStore(path: directory.file("jobs.sqlite"))
                let recorder = EventRecorder()
                let names = NameRecorder()
                store.start { event in
                    names.record(
                        (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8))?
                            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "")
                    recorder.record(event)
                }
                defer { store.close() }
                _ = try answer(.counts, store: store, recorder: recorder, token: 1)
                #expect(names.all == ["zgrid-store"])
            }
        }
    }

    /// Thread names seen by the store's events callback.
    private final class NameRecorder: Sendable {
        private let names = Mutex<[String]>([])
        func record(_ name: String) { names.withLock { $0.append(name) } }
        var all: [String] { names.withLock { $0 } }
    }
#endif
