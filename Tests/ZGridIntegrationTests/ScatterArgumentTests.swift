import Foundation
import Testing

extension IntegrationTests {
    @Suite("zgrid scatter refusing payloads it would drop", .serialized, .timeLimit(.minutes(1)))
    struct ScatterArgumentTests {
        @Test("zgrid scatter with several payloads and no --map exits 64 before sending anything, instead of sending the first")
        func severalPayloadsWithoutMap() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            // Nobody listens there: a scatter sent would end in a timeout (exit 2), not 64.
            let (status, errors) = try await refusedRun(
                ["scatter", "echo", "first", "second", "third", "--connect", "tcp://127.0.0.1:\(try freePort())", "--timeout-ms", "500"],
                in: directory)
            #expect(status == 64, "exit status \(status.map(String.init) ?? "none"): \(errors)")
            #expect(errors.contains("3 payloads given without --map"), "\(errors)")
            #expect(errors.contains("Usage: zgrid scatter"), "\(errors)")
        }

        @Test(
            "zgrid scatter with a bad --gather or --timeout-ms, or --map without inputs, exits 64 with its own usage before connecting",
            arguments: [
                (["x", "--gather", "first:0"], "bad --gather 'first:0'"), (["x", "--gather", "first:x"], "bad --gather 'first:x'"),
                (["x", "--gather", "first:65536"], "N from 1 to 65535"), (["x", "--gather", "most"], "expected all, first:N"),
                (["x", "--timeout-ms", "0"], "--timeout-ms 0 is outside"),
                (["--map"], "--map needs at least one input"),
            ])
        func badGatherOrTimeout(_ options: [String], _ message: String) async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let (status, errors) = try await refusedRun(
                ["scatter", "echo"] + options + ["--connect", "tcp://127.0.0.1:\(try freePort())"], in: directory)
            #expect(status == 64, "exit status \(status.map(String.init) ?? "none"): \(errors)")
            #expect(errors.contains(message), "\(errors)")
            #expect(errors.contains("Usage: zgrid scatter"), "\(errors)")
        }
    }
}
