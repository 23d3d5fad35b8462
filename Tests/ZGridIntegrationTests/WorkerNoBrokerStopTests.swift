import Foundation
import Testing

extension IntegrationTests {
    @Suite("zgrid worker stopping with no broker to leave", .serialized, .timeLimit(.minutes(1)))
    struct WorkerNoBrokerStopTests {
        @Test("a zgrid worker that never reached a broker stops at once on SIGTERM, whatever its heartbeat interval")
        func stopsAtOnceWithoutBroker() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let config = directory.file("cluster.conf")
            // Nobody listens there; a long heartbeat once made the stop wait two intervals (10 s).
            try """
            [broker]
            connect = "tcp://127.0.0.1:\(try freePort())"
            heartbeat_ms = 5000
            log_level = "error"

            [jobs]
            store = ""
            """.write(toFile: config, atomically: true, encoding: .utf8)
            let process = try launchZGrid(["worker", "--config", config, "--function", "echo"])
            defer { endProcess(process) }
            try await Task.sleep(for: .seconds(1))
            #expect(process.isRunning, "the worker ended before it was stopped")
            guard let took = try await timedExit(process, "the worker", after: SIGTERM, seconds: 20) else { return }
            // Usually a few milliseconds; the bound leaves room for a loaded machine.
            #expect(took < .seconds(4), "the worker took \(took) to stop with no broker")
            expectExitedCleanly(process, "the worker")
        }
    }
}
