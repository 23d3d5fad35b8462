import Foundation
import Testing

extension IntegrationTests {
    @Suite("zgrid top refusing an interval or count it cannot use", .serialized, .timeLimit(.minutes(1)))
    struct TopArgumentTests {
        @Test(
            "zgrid top with an interval that is not a positive number of seconds, or a negative count, exits 64 before connecting",
            arguments: [["--interval", "nan"], ["--interval", "inf"], ["--interval=0"], ["--interval=-1"], ["--count=-1"]])
        func refused(_ option: [String]) async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            // Nobody listens there: a top that ran would fail with exit 2 (or crash), not 64.
            let (status, errors) = try await refusedRun(
                ["top", "--connect", "tcp://127.0.0.1:\(try freePort())"] + option, in: directory)
            #expect(status == 64, "exit status \(status.map(String.init) ?? "none"): \(errors)")
            #expect(errors.contains("Usage: zgrid top"), "\(errors)")
        }
    }
}
