import Foundation
import Testing
import ZGridJobStore

/// A real crash: a child process (this test binary, running only `childWriter`) writes jobs, reports what
/// was committed, keeps writing, and is SIGKILLed; the parent then checks that every reported job is there.
@Suite("SIGKILL")
struct KillTests {
    /// The environment variable that turns the child on and names its database file.
    static let pathVariable = "ZGRID_JOBSTORE_KILL_CHILD_PATH"
    /// The line prefix with which the child reports its committed job count.
    static let marker = "ZGRID-JOBSTORE-COMMITTED "
    /// Jobs per write call in the child.
    static let batchSize = 500
    /// Jobs the child has committed before it reports.
    static let reportedJobs = 5000

    /// Where this test binary is, when it can be run again as a child (SwiftPM's Linux test runner).
    static var testBinary: String? {
        #if os(Linux)
            let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
            return path.hasSuffix(".xctest") ? path : nil
        #else
            return nil
        #endif
    }

    @Test("jobs reported committed survive SIGKILL of the writing process", .enabled(if: testBinary != nil))
    func killedWriter() throws {
        try withTemporaryDirectory { directory throws in
            let path = directory.file("jobs.sqlite")
            let child = Process()
            child.executableURL = URL(fileURLWithPath: try #require(Self.testBinary))
            child.arguments = ["--testing-library", "swift-testing", "--filter", "KillTests/childWriter"]
            var environment = ProcessInfo.processInfo.environment
            environment[Self.pathVariable] = path
            child.environment = environment
            let output = Pipe()
            child.standardOutput = output
            child.standardError = FileHandle.nullDevice
            try child.run()

            var text = ""
            var reported: Int?
            while reported == nil {
                let data = output.fileHandleForReading.availableData
                if data.isEmpty { break }
                text += String(decoding: data, as: UTF8.self)
                reported =
                    text.split(separator: "\n").lazy
                    .compactMap { $0.hasPrefix(Self.marker) ? Int($0.dropFirst(Self.marker.count)) : nil }.first
            }
            Thread.sleep(forTimeInterval: 0.2)  // let the child commit more, so the kill lands mid-stream
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            #expect(child.terminationReason == .uncaughtSignal)
            let committed = try #require(reported, "the child reported nothing: \(text)")
            #expect(committed == Self.reportedJobs)

            let store = try JobStore(path: path)
            defer { store.close() }
            let recovered = try store.recover()
            let ids = recovered.unfinished.map(\.id)
            #expect(ids.count >= committed)
            #expect(ids == Array(1...Int64(ids.count)))
            #expect(ids.count % Self.batchSize == 0)
            #expect(recovered.unfinished.last.map { $0 == makeJob($0.id) } == true)
        }
    }

    @Test("child of killedWriter (runs only in the child)", .enabled(if: ProcessInfo.processInfo.environment[pathVariable] != nil))
    func childWriter() throws {
        let path = try #require(ProcessInfo.processInfo.environment[Self.pathVariable])
        let store = try JobStore(path: path)
        let recorder = EventRecorder()
        store.start(events: recorder.callback)
        var nextID: Int64 = 1
        func writeBatch(token: UInt64) {
            store.write(
                (0..<Self.batchSize).map { _ in
                    defer { nextID += 1 }
                    return .upsert(makeJob(nextID))
                }, token: token)
        }
        let reportedCalls = UInt64(Self.reportedJobs / Self.batchSize)
        for token in 0..<reportedCalls {
            writeBatch(token: token)
        }
        recorder.waitForCommits(0..<reportedCalls)
        FileHandle.standardOutput.write(Data((Self.marker + "\(Self.reportedJobs)\n").utf8))
        // Keep writing until killed, so the kill lands in the middle of commits.
        var token = reportedCalls
        let deadline = Date(timeIntervalSinceNow: 60)
        while Date() < deadline {
            writeBatch(token: token)
            token += 1
            recorder.waitForCommits([token - 1])
        }
    }
}
