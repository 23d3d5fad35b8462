import Foundation
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol

extension IntegrationTests {
    @Suite("zgrid watch without a broker", .serialized, .timeLimit(.minutes(1)))
    struct WatchNoBrokerTests {
        /// A cluster.conf in `directory` whose clients connect to `endpoint`, with a 600 ms expiry.
        private func writeConfig(connectingTo endpoint: String, in directory: TemporaryDirectory) throws -> String {
            let config = directory.file("cluster.conf")
            try "[broker]\nconnect = \"\(endpoint)\"\nheartbeat_ms = 200\nliveness = 3\nlog_level = \"error\"\n".write(
                toFile: config, atomically: true, encoding: .utf8)
            return config
        }

        @Test("no broker answering its subscription: zgrid watch exits 2 saying so, instead of waiting silently forever")
        func noBrokerAtStart() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let endpoint = "tcp://127.0.0.1:\(try freePort())"
            let config = try writeConfig(connectingTo: endpoint, in: directory)
            // Without the deadline it runs until killed here.
            let run = try await runZGrid(["watch", "--config", config], in: directory, seconds: 20)
            #expect(run.status == 2, "\(run)")
            #expect(
                run.errors.contains("zgrid watch: broker unreachable: no broker at \(endpoint) answered the subscription within 600 ms"),
                "\(run)")
        }

        @Test("a watcher whose subscription was confirmed rides out the broker's absence and restart")
        func confirmedWatcherOutlivesBroker() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let endpoint = "tcp://127.0.0.1:\(try freePort())"
            let heartbeat = HeartbeatSettings(intervalMilliseconds: 200, liveness: 3)
            var broker = try startBroker(endpoint: endpoint, jobStore: directory.file("jobs.sqlite"), heartbeat: heartbeat)
            let config = try writeConfig(connectingTo: endpoint, in: directory)
            let outputPath = directory.file("watch.out")
            _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
            let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
            defer { try? output.close() }
            let watcher = try launchZGrid(["watch", "--json", "--config", config], standardOutput: output)
            defer { endProcess(watcher) }
            try await waitUntil("the watcher subscribed") { (readText(outputPath) ?? "").contains("\"subscribed\"") }
            broker.stop()
            // Well past the expiry with no broker: the watcher waits for it.
            try await Task.sleep(for: .seconds(2))
            #expect(watcher.isRunning, "the watcher gave up on a broker it had reached")
            broker = try startBroker(endpoint: endpoint, jobStore: directory.file("jobs.sqlite"), heartbeat: heartbeat)
            defer { broker.stop() }
            let client = try GridClient(broker: endpoint, heartbeat: heartbeat)
            let deadline = ContinuousClock.now + .seconds(20)
            while (try? await client.brokerStatus().counters["subscriptions_open"]) != 1 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(try await client.brokerStatus().counters["subscriptions_open"] == 1, "the watcher did not subscribe again")
            await client.close()
            kill(watcher.processIdentifier, SIGINT)
            #expect(try await waitForExit(watcher, seconds: 10))
            #expect(watcher.terminationReason == .exit && watcher.terminationStatus == 130, "status \(watcher.terminationStatus)")
        }
    }
}
