import Foundation
import Testing

extension IntegrationTests {
    @Suite("zgrid worker refusing a stuck grace", .serialized, .timeLimit(.minutes(1)))
    struct StuckGraceArgumentTests {
        @Test(
            "zgrid worker --stuck-grace-ms below 1 is refused with exit 64: at 0 the first time-out would count as stuck",
            arguments: ["0", "-5"])
        func stuckGraceBelowOneRefused(grace: String) async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let (status, errors) = try await refusedRun(
                ["worker", "--connect", "tcp://127.0.0.1:\(try freePort())", "--function", "echo", "--stuck-grace-ms", grace],
                in: directory)
            #expect(status == 64, "exit status \(status.map(String.init) ?? "none"): \(errors)")
            #expect(errors.contains("--stuck-grace-ms must be 1 or more, got \(grace)"), "\(errors)")
        }
    }
}
