import Foundation
import Testing
import ZGridClient
import ZGridProtocol
import ZGridWorker

extension IntegrationTests {
    @Suite("zgrid broker processes and their stop signals", .serialized, .timeLimit(.minutes(2)))
    struct BrokerSignalTests {
        /// A `zgrid broker` process on a free port, with a minute of shutdown grace and its log in a
        /// file, plus a worker in this process serving `slow` (which runs for a minute unless
        /// cancelled) and a client slow to notice silence (10 s), so that a quick answer can only
        /// come from the broker. Ends them with ``Running/end()``.
        struct Running {
            let process: Process
            let directory: TemporaryDirectory
            let worker: Worker
            let workerTask: Task<Void, any Error>
            let client: GridClient
            /// How many `slow` calls started on the worker.
            let started: Counter

            var log: String { directory.file("broker.log") }

            static func start() async throws -> Running {
                let directory = try TemporaryDirectory()
                let endpoint = "tcp://127.0.0.1:\(try freePort())"
                let config = directory.file("cluster.conf")
                try """
                [broker]
                bind = ["\(endpoint)"]
                heartbeat_ms = 200
                liveness = 4
                shutdown_grace_ms = 60000

                [jobs]
                store = ""
                """.write(toFile: config, atomically: true, encoding: .utf8)
                let log = directory.file("broker.log")
                _ = FileManager.default.createFile(atPath: log, contents: nil)
                let started = Counter()
                let worker = Worker(broker: endpoint, concurrency: 2, heartbeat: testHeartbeat, logger: quietLogger("test.worker"))
                worker.register("slow") { _ in
                    started.increment()
                    try await Task.sleep(for: .seconds(60))
                    return []
                }
                let client = try GridClient(broker: endpoint, heartbeat: HeartbeatSettings(intervalMilliseconds: 1000, liveness: 10))
                // Started last: nothing that may throw comes after it, so no broker outlives a failed start.
                let process = try launchZGrid(
                    ["broker", "--config", config, "--log-level", "info"], standardError: FileHandle(forWritingAtPath: log))
                let workerTask = Task { try await worker.run() }
                return Running(
                    process: process, directory: directory, worker: worker, workerTask: workerTask, client: client, started: started)
            }

            /// A `slow` call, started and running on the worker.
            func runningCall() async throws -> Task<Result<[UInt8], GridError>, Never> {
                let client = self.client
                let call = Task { await outcome { () async throws(GridError) in try await client.call("slow", timeout: .seconds(90)) } }
                try await waitUntil("the call runs on the worker", seconds: 30) { started.count == 1 }
                return call
            }

            /// Ends the broker process, the worker and the client, and removes the directory.
            func end() async {
                endProcess(process)
                worker.stop(force: true)
                _ = await workerTask.result
                await client.close()
                directory.remove()
            }
        }

        /// Checks that `call` failed as shutting down, answered by the broker when it stopped.
        private func expectAnsweredAtStop(_ call: Task<Result<[UInt8], GridError>, Never>) async {
            let result = await call.value
            guard case .failure(.shuttingDown(let message)) = result else {
                Issue.record("expected shuttingDown from the broker, got \(result)")
                return
            }
            #expect(message.contains("stopped before the call finished"), "\(message)")
        }

        /// Sends a `zgrid broker` with a call in flight `first` when given (it keeps running: the
        /// call holds it for its minute of grace), then `force`, after which it must answer the
        /// call as shutting down, exit 0 at once, and log `logged` but no crash report.
        private func expectStoppedAtOnce(first: Int32?, force: Int32, logged: String) async throws {
            let running = try await Running.start()
            let call: Task<Result<[UInt8], GridError>, Never>
            do { call = try await running.runningCall() } catch {
                await running.end()  // no broker process left behind by a failed test
                throw error
            }
            if try await expectForcedExit(running.process, "the broker", first: first, force: force) {
                await expectAnsweredAtStop(call)
                let text = readText(running.log) ?? ""
                #expect(text.contains(logged) && !text.contains("crashed"), "\(text)")
            }
            await running.end()
        }

        @Test("a second signal ends a stopping zgrid broker's grace at once: its call in flight is answered shutting down")
        func secondSignalEndsTheGrace() async throws {
            try await expectStoppedAtOnce(first: SIGTERM, force: SIGINT, logged: "SIGINT: stopping at once")
        }

        @Test("a zgrid broker started under nohup runs on through SIGHUP, and still stops cleanly on SIGTERM")
        func nohupKeepsTheBrokerThroughHangUp() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let endpoint = "tcp://127.0.0.1:\(try freePort())"
            let log = directory.file("broker.log")
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            let process = try launchZGrid(
                ["broker", "--bind", endpoint, "--log-level", "info"], standardError: FileHandle(forWritingAtPath: log),
                through: "/usr/bin/nohup")
            defer { endProcess(process) }
            let client = try GridClient(broker: endpoint, heartbeat: testHeartbeat)
            var answered = false
            for _ in 0..<30 where !answered { answered = (try? await client.brokerStatus()) != nil }
            #expect(answered, "the broker never answered")
            kill(process.processIdentifier, SIGHUP)
            try await Task.sleep(for: .seconds(1))
            #expect(process.isRunning, "the broker ended on a SIGHUP that nohup ignores")
            #expect((try? await client.brokerStatus()) != nil, "the broker no longer answers after SIGHUP")
            #expect(!(readText(log) ?? "").contains("SIGHUP"), "\(readText(log) ?? "")")
            await client.close()
            kill(process.processIdentifier, SIGTERM)
            let exited = try await waitForExit(process, seconds: 15)
            #expect(exited, "the broker still runs 15 s after SIGTERM")
            if exited { expectExitedCleanly(process, "the broker") }
        }

        @Test("SIGQUIT stops a zgrid broker at once, without a crash report: its call in flight is answered shutting down")
        func quitStopsAtOnce() async throws {
            try await expectStoppedAtOnce(first: nil, force: SIGQUIT, logged: "SIGQUIT: stopping at once")
        }
    }
}
