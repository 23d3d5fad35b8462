import Foundation
import Testing
import ZGridClient
import ZGridProtocol

extension IntegrationTests {
    @Suite("zgrid up: a supervised local cluster", .serialized, .timeLimit(.minutes(2)))
    struct ClusterTests {
        /// The process ids of a process's children, whichever of its threads started them (Linux).
        private func children(of pid: Int32) -> [Int32] {
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
            return tasks.flatMap { task -> [Int32] in
                let text = readText("/proc/\(pid)/task/\(task)/children") ?? ""
                return text.split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            }
        }

        @Test("zgrid up starts the configured workers, restarts one that crashes, and stops everything on SIGINT")
        func superviseAndStop() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let endpoint = "tcp://127.0.0.1:\(try freePort())"
            let config = directory.file("cluster.conf")
            try """
            [broker]
            bind = ["\(endpoint)"]
            heartbeat_ms = 200
            liveness = 4
            log_level = "error"

            [jobs]
            store = ""

            [[pool]]
            name = "echoes"
            functions = ["echo"]
            processes = 2
            concurrency = 2
            """.write(toFile: config, atomically: true, encoding: .utf8)
            let up = try launchZGrid(["up", "--config", config])
            defer {
                if up.isRunning {
                    for child in children(of: up.processIdentifier) { kill(child, SIGKILL) }
                }
                endProcess(up)
            }
            let client = try GridClient(broker: endpoint, heartbeat: testHeartbeat)
            try await waitUntil("two workers", seconds: 20) {
                children(of: up.processIdentifier).count == 2
            }
            var status = try await client.brokerStatus()
            for _ in 0..<100 where status.workers.count < 2 {
                try await Task.sleep(for: .milliseconds(100))
                status = try await client.brokerStatus()
            }
            #expect(status.workers.count == 2)
            #expect(try await client.call("echo", bytes("up")) == bytes("up"))
            let victims = children(of: up.processIdentifier)
            kill(victims[0], SIGKILL)
            try await waitUntil("worker restarted", seconds: 20) {
                let now = children(of: up.processIdentifier)
                return now.count == 2 && !now.contains(victims[0])
            }
            // Idempotent: the broker may still count the killed worker and send the call there first.
            #expect(try await client.call("echo", bytes("again"), timeout: .seconds(10), idempotent: true) == bytes("again"))
            let before = children(of: up.processIdentifier)
            kill(up.processIdentifier, SIGINT)
            up.waitUntilExit()
            #expect(up.terminationStatus == 0)
            for pid in before { #expect(kill(pid, 0) != 0, "worker \(pid) still running after zgrid up stopped") }
            await client.close()
        }
    }
}
