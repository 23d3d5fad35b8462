import Foundation
import Testing
import ZGridClient

extension IntegrationTests {
    @Suite("What zgrid worker logs at the default level", .serialized, .timeLimit(.minutes(1)))
    struct WorkerLogTests {
        @Test("calls that time out on the worker log no line each at info (the caller and the broker's counts have them)")
        func timeoutsAreNotLoggedPerCall() async throws {
            try await withWorkerProcess { worker in
                for _ in 0..<5 {
                    await #expect(throws: GridError.self) {
                        _ = try await worker.client.call("sleep", bytes("10000"), timeout: .milliseconds(100))
                    }
                }
                // The worker answers each once its handler ended; give its log lines time to be written.
                try await Task.sleep(for: .milliseconds(300))
                let text = readText(worker.log) ?? ""
                let lines = text.split(separator: "\n").filter { $0.contains("time limit") }
                #expect(lines.isEmpty, "\(lines)")
                #expect(text.contains("worker registered"), "the worker logs at info: \(text)")
            }
        }
    }
}
