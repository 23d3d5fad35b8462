import Foundation
import Testing

extension IntegrationTests {
    @Suite("A wrong configuration file exits 78 (EX_CONFIG), apart from a wrong argument (64)", .timeLimit(.minutes(1)))
    struct ConfigExitStatusTests {
        @Test("every command that reads the file exits 78 naming file, line and key; a missing file named by --config too")
        func configErrorsExit78() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let config = directory.file("cluster.conf")
            try "[broker]\nheartbeat_ms = \"fast\"\n".write(toFile: config, atomically: true, encoding: .utf8)
            let says = "\(config):2: broker.heartbeat_ms: expected an integer"
            for arguments in [["broker"], ["worker"], ["submit", "echo", "x"], ["jobs", "list"], ["status"], ["up"]] {
                let run = try await runZGrid(arguments + ["--config", config], in: directory, seconds: 15)
                #expect(run.status == 78, "zgrid \(arguments.joined(separator: " ")): \(run)")
                #expect(run.errors.contains(says), "zgrid \(arguments.joined(separator: " ")): \(run)")
            }
            let missing = try await runZGrid(["jobs", "list", "--config", directory.file("nowhere.conf")], in: directory, seconds: 15)
            #expect(missing.status == 78, "\(missing)")
            #expect(missing.errors.contains("nowhere.conf"), "\(missing)")
            // An argument is still a usage error, even with a wrong file beside it.
            let usage = try await runZGrid(["jobs", "list", "--limit", "0", "--config", config], in: directory, seconds: 15)
            #expect(usage.status == 64, "\(usage)")
        }
    }
}
