import Foundation
import Testing
import ZGridClient
import ZGridProtocol
import ZeroMQ

extension IntegrationTests {
    @Suite("A broker stalled past the heartbeat expiry", .serialized, .timeLimit(.minutes(2)))
    struct BrokerStallTests {
        /// How long the job's handler runs: well past the stall below, so its result is sent after
        /// the worker has connected again.
        static let handlerMilliseconds = 6000

        /// The job's status once `condition` holds for it, polling every 50 ms for up to 30 s.
        static func status(
            of id: UInt64, _ client: GridClient, when what: String, _ condition: (JobStatus) -> Bool
        ) async throws -> JobStatus? {
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                if let status = try? await client.status(job: id), condition(status) { return status }
                try await Task.sleep(for: .milliseconds(50))
            }
            Issue.record("timed out waiting for: \(what)")
            return nil
        }

        /// With `curve`, the broker, worker and client use CURVE: the worker resumes its session
        /// with the key it registered with.
        @Test(
            "a job with one attempt, running while the broker is stopped past the expiry, still succeeds",
            arguments: [false, true])
        func jobRunningThroughAStallSucceeds(curve: Bool) async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            // An expiry of 1 s for the broker and the worker alike.
            let (endpoint, config) = try stallConfig(in: directory)
            var security: PeerSecurity?
            if curve {
                let keys = try await makeKeyFiles(["broker", "worker"], in: directory)
                let clientKeys = try CurveKeyPair.generate()
                let settings = [
                    "", "[security]", "curve = true", "client_keys = [\"\(clientKeys.publicKey)\"]", "worker_keys = [\"\(keys[1])\"]",
                ]
                try ((readText(config) ?? "") + settings.joined(separator: "\n")).write(toFile: config, atomically: true, encoding: .utf8)
                security = PeerSecurity(serverKey: keys[0], keys: clientKeys)
            }
            let brokerLog = directory.file("broker.log")
            let workerLog = directory.file("worker.log")
            for log in [brokerLog, workerLog] { _ = FileManager.default.createFile(atPath: log, contents: nil) }
            let broker = try launchZGrid(
                ["broker", "--config", config, "--log-level", "info"], standardError: FileHandle(forWritingAtPath: brokerLog))
            defer { endProcess(broker) }
            let worker = try launchZGrid(
                ["worker", "--config", config, "--function", "sleep", "--concurrency", "2", "--log-level", "info"],
                standardError: FileHandle(forWritingAtPath: workerLog))
            defer { endProcess(worker) }
            let client = try GridClient(broker: endpoint, heartbeat: testHeartbeat, security: security)
            let id = try await client.submit("sleep", bytes("\(Self.handlerMilliseconds)"), options: JobOptions(maxAttempts: 1))
            _ = try await Self.status(of: id, client, when: "the job runs") { $0.state == "running" }
            try await Task.sleep(for: .milliseconds(300))  // its handler has started
            kill(broker.processIdentifier, SIGSTOP)
            // Three expiries: the worker gives up on the silent broker and connects again meanwhile.
            try await Task.sleep(for: .seconds(3))
            kill(broker.processIdentifier, SIGCONT)
            let final = try await Self.status(of: id, client, when: "the job finished") {
                ["succeeded", "dead", "failed", "cancelled"].contains($0.state)
            }
            let logs = "broker log:\n\(readText(brokerLog) ?? "")\nworker log:\n\(readText(workerLog) ?? "")"
            #expect(final?.state == "succeeded", "job ended \(final?.state ?? "?"): \(final?.lastError ?? "")\n\(logs)")
            #expect(final?.attempts == 1)
            if final?.state == "succeeded" {
                #expect(try await client.result(job: id) == bytes("slept \(Self.handlerMilliseconds) ms"))
            }
            #expect(readText(brokerLog)?.contains("did not run for") == true, "the broker did not notice its stall\n\(logs)")
            #expect(readText(brokerLog)?.contains("took over 1 running calls") == true, "the worker's session was not resumed\n\(logs)")
            await client.close()
        }
    }
}

/// A cluster.conf in `directory` for a broker on a free port, with an expiry of 1 s (250 ms × 4)
/// and a job store, ending with its `[jobs]` table; returns the endpoint and the file's path.
private func stallConfig(in directory: TemporaryDirectory) throws -> (endpoint: String, path: String) {
    let endpoint = "tcp://127.0.0.1:\(try freePort())"
    let path = directory.file("cluster.conf")
    let settings = ["[broker]", "bind = [\"\(endpoint)\"]", "heartbeat_ms = 250", "liveness = 4", "[jobs]"]
    try (settings + ["store = \"\(directory.file("jobs.sqlite"))\""]).joined(separator: "\n").write(
        toFile: path, atomically: true, encoding: .utf8)
    return (endpoint, path)
}
