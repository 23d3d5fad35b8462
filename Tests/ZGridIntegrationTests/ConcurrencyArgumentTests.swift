import Foundation
import Testing

extension IntegrationTests {
    @Suite("zgrid worker refusing a concurrency", .serialized, .timeLimit(.minutes(1)))
    struct ConcurrencyArgumentTests {
        @Test(
            "zgrid worker --concurrency outside 1 to 1000000 is refused, saying the range, not run as another number",
            arguments: ["0", "-3", "1000001"])
        func concurrencyOutOfRangeRefused(concurrency: String) async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let (status, errors) = try await refusedRun(
                ["worker", "--connect", "tcp://127.0.0.1:\(try freePort())", "--function", "echo", "--concurrency=\(concurrency)"],
                in: directory)
            #expect(status == 64, "exit status \(status.map(String.init) ?? "none"): \(errors)")
            #expect(errors.contains("--concurrency must be from 1 to 1000000, got \(concurrency)"), "\(errors)")
        }
    }
}
