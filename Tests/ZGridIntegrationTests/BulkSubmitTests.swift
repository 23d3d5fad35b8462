import Foundation
import Testing
import ZGridClient

extension IntegrationTests {
    @Suite("zgrid submit --from: bulk submit of a JSON Lines file", .serialized, .timeLimit(.minutes(1)))
    struct BulkSubmitTests {
        @Test("a failed bulk submit names the file's first line not stored, counting blank lines, whichever failure came first")
        func failureNamesFirstLineNotStored() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let broker = try startBroker(maxMessageBytes: 4096, jobStore: directory.file("jobs.db"))
            defer { broker.stop() }
            let config = directory.file("cluster.conf")
            try """
            [broker]
            log_level = "error"
            """.write(toFile: config, atomically: true, encoding: .utf8)
            // Line 5 fails once the client knows the broker's frame limit (after a round trip);
            // line 6 fails in the client at once, so its failure is the first to come.
            let large = String(repeating: "x", count: 5000)
            let jobs = directory.file("jobs.jsonl")
            try """
            {"function": "echo", "unique_key": "line 1"}

            {"function": "echo", "unique_key": "line 3"}
            \("  ")
            {"function": "echo", "unique_key": "line 5", "payload": "\(large)"}
            {"function": "echo", "unique_key": "line 6", "priority": 42}
            {"function": "echo", "unique_key": "line 7"}

            """.write(toFile: jobs, atomically: true, encoding: .utf8)
            let log = directory.file("submit.log")
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            let process = try launchZGrid(
                ["submit", "--config", config, "--connect", broker.endpoints[0], "--from", jobs],
                standardError: FileHandle(forWritingAtPath: log))
            defer { endProcess(process) }
            let exited = try await waitForExit(process, seconds: 30)
            #expect(exited, "zgrid submit still runs 30 s after it started")
            guard exited else { return }
            #expect(process.terminationReason == .exit && process.terminationStatus == 1, "exit status \(process.terminationStatus)")
            let text = readText(log) ?? ""
            let lines = text.split(whereSeparator: { $0 == "\n" || $0 == "\r" })
            let failure = lines.first { $0.hasPrefix("\(jobs):") } ?? ""
            #expect(failure.hasPrefix("\(jobs):5: ") && failure.contains("max_message_bytes"), "\(text)")
            #expect(text.contains("the first being line 5: every line before it is stored"), "\(text)")
            // Lines 1 and 3 are stored; line 7 may be, when its submit went out before the failure.
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let stored = Set(try await client.jobs().compactMap(\.uniqueKey))
            #expect(stored.isSuperset(of: ["line 1", "line 3"]) && stored.isSubset(of: ["line 1", "line 3", "line 7"]), "\(stored)")
            await client.close()
        }
    }
}
