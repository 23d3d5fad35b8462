import Foundation
import Testing
import ZGridClient

extension IntegrationTests {
    @Suite("What zgrid worker logs at the default level", .serialized, .timeLimit(.minutes(1)))
    struct WorkerLogTests {
        @Test("calls that time out on the worker log no line each at info (the caller and the broker's counts have them)")
        func timeoutsAreNotLoggedPerCall() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let log = directory.file("worker.log")
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            let worker = try launchZGrid(
                ["worker", "--connect", broker.endpoints[0], "--function", "sleep", "--log-level", "info"],
                standardError: FileHandle(forWritingAtPath: log))
            defer { endProcess(worker) }
            try await waitUntil("worker registered") { broker.status.statistics.workersJoined == 1 }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            for _ in 0..<5 {
                await #expect(throws: GridError.self) { _ = try await client.call("sleep", bytes("10000"), timeout: .milliseconds(100)) }
            }
            await client.close()
            // The worker answers each once its handler ended; give its log lines time to be written.
            try await Task.sleep(for: .milliseconds(300))
            let lines = (readText(log) ?? "").split(separator: "\n").filter { $0.contains("time limit") }
            #expect(lines.isEmpty, "\(lines)")
            #expect(readText(log)?.contains("worker registered") == true, "the worker logs at info: \(readText(log) ?? "")")
        }
    }
}
