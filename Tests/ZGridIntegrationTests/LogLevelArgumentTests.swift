import Foundation
import Testing

extension IntegrationTests {
    @Suite("An unknown --log-level is refused with the command's own usage", .timeLimit(.minutes(1)))
    struct LogLevelArgumentTests {
        @Test(
            "zgrid up, broker, worker and status refuse --log-level loud with exit 64 and their usage",
            arguments: [["up"], ["broker"], ["worker"], ["status"]])
        func unknownLevel(command: [String]) async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            // Nobody listens there: a command that ran would start a cluster, or wait for a broker.
            let endpoint = "tcp://127.0.0.1:\(try freePort())"
            let config = directory.file("cluster.conf")
            try "[broker]\nbind = [\"\(endpoint)\"]\n[jobs]\nstore = \"\"\n".write(toFile: config, atomically: true, encoding: .utf8)
            let (status, errors) = try await refusedRun(command + ["--config", config, "--log-level", "loud"], in: directory)
            #expect(status == 64, "exit status \(status.map(String.init) ?? "none"): \(errors)")
            #expect(errors.contains("unknown log level 'loud': expected trace, debug"), "\(errors)")
            #expect(errors.contains("Usage: zgrid \(command[0])"), "\(errors)")
        }
    }
}
