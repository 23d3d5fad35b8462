import Foundation
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol

extension IntegrationTests {
    @Suite("zgrid processes and their stop signals", .serialized, .timeLimit(.minutes(2)))
    struct StopSignalTests {
        /// How many threads process `pid` has (0 once it is gone).
        private func threadCount(_ pid: Int32) -> Int {
            let status = readText("/proc/\(pid)/status") ?? ""
            guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Threads:") }) else { return 0 }
            return Int(line.dropFirst("Threads:".count).trimmingCharacters(in: .whitespaces)) ?? 0
        }

        /// Sends a `zgrid worker` running a call `first` when given (it keeps running: the call
        /// holds it), then `force`, after which it must give up the call (failing as shutting
        /// down), exit 0 at once, and log `logged` but no crash report.
        private func expectWorkerForcedOut(first: Int32?, force: Int32, logged: String) async throws {
            try await withWorkerProcess { worker in
                let call = try await worker.runningSleep(milliseconds: 60_000)
                guard try await expectForcedExit(worker.process, "the worker", first: first, force: force, bound: .seconds(3)) else {
                    return
                }
                let result = await call.value
                guard case .failure(.shuttingDown) = result else {
                    Issue.record("expected shuttingDown, got \(result)")
                    return
                }
                let text = readText(worker.log) ?? ""
                #expect(text.contains(logged) && text.contains("worker forced to stop") && !text.contains("crashed"), "\(text)")
            }
        }

        @Test("a second signal forces a stopping zgrid worker out at once; its running call fails as shutting down")
        func secondSignalForcesWorkerOut() async throws {
            try await expectWorkerForcedOut(first: SIGINT, force: SIGTERM, logged: "SIGTERM: forcing the worker out")
        }

        @Test("a burst of signals to a stopping zgrid worker forces it out once, logged once")
        func signalBurstLoggedOnce() async throws {
            try await withWorkerProcess { worker in
                _ = try await worker.runningSleep(milliseconds: 60_000)
                let pid = worker.process.processIdentifier
                kill(pid, SIGINT)
                try await Task.sleep(for: .milliseconds(400))
                // Distinct signals, which the kernel does not merge while they are pending.
                for _ in 0..<5 {
                    for signal in [SIGTERM, SIGHUP, SIGINT] { kill(pid, signal) }
                }
                let exited = try await waitForExit(worker.process, seconds: 15)
                #expect(exited, "the worker still runs 15 s after the signals")
                let text = readText(worker.log) ?? ""
                let forcings = text.components(separatedBy: ": forcing the worker out").count - 1
                #expect(forcings == 1, "logged \(forcings) times: \(text)")
            }
        }

        @Test("SIGQUIT forces a zgrid worker out at once, without a crash report; its running call fails as shutting down")
        func quitForcesWorkerOut() async throws {
            try await expectWorkerForcedOut(first: nil, force: SIGQUIT, logged: "SIGQUIT: forcing the worker out")
        }

        @Test("SIGHUP (a closed terminal) stops a zgrid worker gracefully: its running call finishes and it exits 0")
        func hangUpStopsWorkerGracefully() async throws {
            try await withWorkerProcess { worker in
                let call = try await worker.runningSleep(milliseconds: 1_500)
                let process = worker.process
                kill(process.processIdentifier, SIGHUP)
                let result = await call.value
                guard case .success = result else {
                    Issue.record("expected the call to finish, got \(result)")
                    return
                }
                let exited = try await waitForExit(process, seconds: 15)
                #expect(exited, "the worker still runs 15 s after SIGHUP")
                if exited { expectExitedCleanly(process, "the worker") }
                #expect((readText(worker.log) ?? "").contains("SIGHUP: stopping gracefully"))
            }
        }

        @Test("a zgrid worker stopping gracefully forces its running call out at the end of --drain-timeout-ms")
        func drainTimeoutForcesWorkerOut() async throws {
            try await withWorkerProcess(options: ["--drain-timeout-ms", "500"]) { worker in
                let call = try await worker.runningSleep(milliseconds: 60_000)
                guard let took = try await timedExit(worker.process, "the worker", after: SIGINT, seconds: 15) else { return }
                expectExitedCleanly(worker.process, "the worker")
                #expect(took >= .milliseconds(500) && took < .seconds(3), "the worker took \(took) to stop")
                await expectForcedOut([call])
            }
        }

        @Test("zgrid worker refuses a negative --drain-timeout-ms, saying what it takes, with its own usage")
        func negativeDrainTimeoutRefused() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let log = directory.file("worker.log")
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            let process = try launchZGrid(
                ["worker", "--connect", "tcp://127.0.0.1:\(try freePort())", "--drain-timeout-ms", "-1"],
                standardError: FileHandle(forWritingAtPath: log))
            defer { endProcess(process) }
            let exited = try await waitForExit(process, seconds: 15)
            #expect(exited, "the worker runs with a negative drain timeout")
            guard exited else { return }
            #expect(process.terminationStatus == 64, "exit status \(process.terminationStatus)")
            let text = readText(log) ?? ""
            #expect(text.contains("--drain-timeout-ms must be 0 or more"), "\(text)")
            #expect(text.contains("Usage: zgrid worker"), "the worker's usage, not the root's: \(text)")
        }

        @Test("zgrid worker, broker and up stopped by SIGTERM as soon as they run their own code exit cleanly, not by the signal")
        func signalRightAfterStart() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let config = directory.file("cluster.conf")
            let endpoint = "tcp://127.0.0.1:\(try freePort())"
            try """
            [broker]
            bind = ["\(endpoint)"]
            connect = "\(endpoint)"
            heartbeat_ms = 200
            log_level = "error"

            [jobs]
            store = ""

            [[pool]]
            name = "echoes"
            functions = ["echo"]
            processes = 1
            concurrency = 1
            """.write(toFile: config, atomically: true, encoding: .utf8)
            let commands: [(name: String, attempts: Int)] = [("worker", 5), ("broker", 3), ("up", 2)]
            for (name, attempts) in commands {
                for attempt in 1...attempts {
                    let process = try launchZGrid([name, "--config", config])
                    defer { endProcess(process) }
                    // The first thread besides the main one starts once `main` runs: before that no
                    // code of zgrid's own can catch a signal (the loader still maps libraries).
                    let deadline = Date().addingTimeInterval(10)
                    while threadCount(process.processIdentifier) < 2 && process.isRunning && Date() < deadline { usleep(50) }
                    kill(process.processIdentifier, SIGTERM)
                    let exited = try await waitForExit(process, seconds: 15)
                    #expect(exited, "zgrid \(name) (attempt \(attempt)) still runs 15 s after SIGTERM")
                    guard exited else { continue }
                    #expect(
                        process.terminationReason == .exit,
                        "zgrid \(name) (attempt \(attempt)) was killed by signal \(process.terminationStatus)")
                    #expect(process.terminationStatus == 0, "zgrid \(name) (attempt \(attempt)) exited with \(process.terminationStatus)")
                }
            }
        }
    }
}
