import Foundation
import Testing

extension IntegrationTests {
    @Suite("zgrid broker and up printing to a file", .serialized, .timeLimit(.minutes(1)))
    struct StandardOutputTests {
        @Test(
            "zgrid broker and up print their listening line to a file while they run, not only when they exit",
            arguments: ["broker", "up"]
        )
        func listeningLineArrivesAtOnce(command: String) async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let config = directory.file("cluster.conf")
            try """
            [broker]
            bind = ["tcp://127.0.0.1:\(try freePort())"]
            log_level = "error"

            [jobs]
            store = ""
            """.write(toFile: config, atomically: true, encoding: .utf8)
            let output = directory.file("stdout")
            _ = FileManager.default.createFile(atPath: output, contents: nil)
            // A file, as under a supervisor that waits for the line: C buffers such output in blocks.
            let process = try launchZGrid([command, "--config", config], standardOutput: FileHandle(forWritingAtPath: output))
            defer { endProcess(process) }
            try await waitUntil("zgrid \(command) printed its listening line", seconds: 15) {
                (readText(output) ?? "").contains("zgrid broker listening on tcp://127.0.0.1:")
            }
            #expect(process.isRunning, "zgrid \(command) ended")
            guard try await timedExit(process, "zgrid \(command)", after: SIGTERM, seconds: 15) != nil else { return }
            expectExitedCleanly(process, "zgrid \(command)")
        }
    }
}
