import Foundation
import Testing
import ZGridClient
import ZGridWorker

extension IntegrationTests {
    @Suite("zgrid broker logging to a closed pipe", .serialized, .timeLimit(.minutes(1)))
    struct ClosedLogPipeTests {
        /// The CPU time process `pid` has used so far, in clock ticks (user and system).
        private func cpuTicks(_ pid: Int32) -> Int {
            guard let stat = readText("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return 0 }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            // Fields 14 and 15 of the line (utime, stime) are the 12th and 13th after the name.
            guard fields.count > 12 else { return 0 }
            return (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)
        }

        @Test("zgrid broker whose output pipe was closed keeps running when it logs (no SIGPIPE), idles, and stops cleanly")
        func brokerOutlivesClosedPipe() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let endpoint = "tcp://127.0.0.1:\(try freePort())"
            let config = directory.file("cluster.conf")
            try """
            [broker]
            bind = ["\(endpoint)"]
            heartbeat_ms = 200
            log_level = "info"

            [jobs]
            store = ""
            """.write(toFile: config, atomically: true, encoding: .utf8)
            let pipe = Pipe()
            // As `zgrid broker 2>&1 | head -c 10` once head has exited: every write fails.
            try pipe.fileHandleForReading.close()
            let process = try launchZGrid(
                ["broker", "--config", config], standardOutput: pipe.fileHandleForWriting, standardError: pipe.fileHandleForWriting)
            defer { endProcess(process) }
            try pipe.fileHandleForWriting.close()
            let client = try GridClient(broker: endpoint, heartbeat: testHeartbeat)
            // A worker joining is logged (at info).
            let worker = Worker(broker: endpoint, concurrency: 1, heartbeat: testHeartbeat, logger: quietLogger("test.worker"))
            worker.register("echo") { request in request.payload }
            let task = Task { try await worker.run() }
            var joined = false
            for _ in 0..<200 where !joined && process.isRunning {
                joined = ((try? await client.brokerStatus())?.workers.count ?? 0) == 1
                if !joined { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(joined, "the worker did not join")
            try await Task.sleep(for: .milliseconds(300))
            #expect(
                process.isRunning,
                "the broker ended by \(process.terminationReason == .exit ? "status" : "signal") \(process.terminationStatus)")
            // Its failed writes do not make it spin.
            let before = cpuTicks(process.processIdentifier)
            try await Task.sleep(for: .seconds(1))
            let used = cpuTicks(process.processIdentifier) - before
            #expect(used < 50, "the broker used \(used) clock ticks of CPU in 1 s of idling")
            worker.stop()
            _ = await task.result
            await client.close()
            kill(process.processIdentifier, SIGTERM)
            let exited = try await waitForExit(process, seconds: 15)
            #expect(exited, "the broker still runs 15 s after SIGTERM")
            if exited { expectExitedCleanly(process, "the broker") }
        }
    }
}
