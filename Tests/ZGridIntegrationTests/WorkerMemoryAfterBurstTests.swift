import Foundation
import Testing
import ZGridClient

extension IntegrationTests {
    @Suite("A worker gives memory back after a burst", .serialized, .timeLimit(.minutes(2)))
    struct WorkerMemoryAfterBurstTests {
        @Test("after a burst of 1 MB payloads at concurrency 64, the worker's resident size falls back near where it started")
        func residentFallsBack() async throws {
            try await withWorkerProcess(options: ["--function", "echo", "--concurrency", "64"]) { worker in
                let pid = worker.process.processIdentifier
                let before = try #require(residentBytes(of: pid))
                let client = worker.client
                let payload = [UInt8](repeating: 7, count: 1_000_000)
                for _ in 0..<3 {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for _ in 0..<64 {
                            group.addTask {
                                let reply = try await client.call("echo", payload, timeout: .seconds(60))
                                #expect(reply.count == payload.count)
                            }
                        }
                        try await group.waitForAll()
                    }
                }
                let afterBurst = try #require(residentBytes(of: pid))
                // Measured: about 30 MiB before, 120 to 160 MiB after the burst, kept for good
                // without a trim, 31 MiB once trimmed. A sanitizer's allocator keeps freed memory
                // in its quarantine, which no trim gives back.
                let bound = before + (underSanitizer ? 1024 << 20 : 48 << 20)
                var resident = afterBurst
                let deadline = ContinuousClock.now + .seconds(20)
                while resident >= bound && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(250))
                    resident = try #require(residentBytes(of: pid))
                }
                #expect(
                    resident < bound,
                    "the worker holds \(resident >> 20) MiB, \(afterBurst >> 20) MiB right after the burst, \(before >> 20) MiB before it")
            }
        }
    }
}
