import Foundation
import Testing
import ZGridJobStore

@Suite("A store file removed or replaced while the store has it open")
struct RemovedFileTests {
    /// The `.failed` events among `events`.
    private func failures(in events: [StoreEvent]) -> [JobStoreError] {
        events.compactMap { event in
            if case .failed(let error, _) = event { return error }
            return nil
        }
    }

    @Test("once its file (or its directory) is removed, every commit fails naming the path, instead of going into the unlinked file")
    func removedFile() throws {
        try withTemporaryDirectory { directory throws in
            let folder = directory.file("store")
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let path = folder + "/jobs.sqlite"
            try withStartedStore(at: path) { store, recorder in
                store.write([.upsert(makeJob(1))], token: 1)
                recorder.waitForCommits([1])
                try FileManager.default.removeItem(atPath: folder)
                store.write([.upsert(makeJob(2))], token: 2)
                store.write([.upsert(makeJob(3))], token: 3)
                recorder.wait { failures(in: $0).count >= 1 }
                store.close()  // commits (or fails) what is still queued
                let events = recorder.snapshot
                let errors = failures(in: events)
                #expect(!errors.isEmpty, "\(events)")
                for error in errors {
                    #expect("\(error)".contains("job store file \(path) is gone") && "\(error)".contains("removed"), "\(error)")
                }
                let committed = EventRecorder.committedTokens(in: events)
                #expect(committed.isDisjoint(with: [2, 3]), "a write into a removed file was reported committed: \(events)")
            }
        }
    }

    @Test("a store file replaced by another file fails the next commit; the new file is left alone")
    func replacedFile() throws {
        try withTemporaryDirectory { directory throws in
            let path = directory.file("jobs.sqlite")
            try withStartedStore(at: path) { store, recorder in
                store.write([.upsert(makeJob(1))], token: 1)
                recorder.waitForCommits([1])
                try FileManager.default.moveItem(atPath: path, toPath: directory.file("moved.sqlite"))
                #expect(FileManager.default.createFile(atPath: path, contents: Data("other".utf8)))
                store.write([.upsert(makeJob(2))], token: 2)
                let events = recorder.wait { failures(in: $0).count >= 1 }
                let error = try #require(failures(in: events).first, "\(events)")
                #expect("\(error)".contains("job store file \(path) is gone") && "\(error)".contains("another file"), "\(error)")
                #expect(FileManager.default.contents(atPath: path) == Data("other".utf8))
            }
        }
    }

    @Test("a store whose -wal file alone is removed fails the next commit naming the log, instead of committing into the unlinked log")
    func removedLog() throws {
        try withTemporaryDirectory { directory throws in
            let path = directory.file("jobs.sqlite")
            try withStartedStore(at: path) { store, recorder in
                store.write([.upsert(makeJob(1))], token: 1)
                recorder.waitForCommits([1])
                try FileManager.default.removeItem(atPath: path + "-wal")
                store.write([.upsert(makeJob(2))], token: 2)
                let events = recorder.wait { failures(in: $0).count >= 1 || EventRecorder.committedTokens(in: $0).contains(2) }
                let error = try #require(failures(in: events).first, "\(events)")
                #expect("\(error)".contains("\(path)-wal was removed"), "\(error)")
            }
        }
    }
}
