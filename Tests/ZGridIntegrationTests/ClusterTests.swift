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

        /// Whether process `pid` runs (a zombie, or an id that is gone, does not).
        private func isRunning(_ pid: Int32) -> Bool {
            guard let stat = readText("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return false }
            return !stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
        }

        /// A cluster.conf for tests: `endpoint`, no job store, one pool serving `functions` with two processes.
        /// Starts `zgrid up` with `config` and waits until the broker at `endpoint` counts both its
        /// workers; returns the process and a client of the broker. Stop it with ``stopUp(_:)``.
        /// Its standard error goes to `log` when given.
        /// With `executable`, that copy of zgrid runs.
        private func startUp(config: String, endpoint: String, log: String? = nil, executable: String? = nil) async throws -> (
            Process, GridClient
        ) {
            if let log { _ = FileManager.default.createFile(atPath: log, contents: nil) }
            let up = try launchZGrid(
                ["up", "--config", config], standardError: log.flatMap { FileHandle(forWritingAtPath: $0) }, executable: executable)
            do {
                let client = try GridClient(broker: endpoint, heartbeat: testHeartbeat)
                try await waitUntil("two workers", seconds: 20) { children(of: up.processIdentifier).count == 2 }
                var status = try await answeredStatus(client)
                for _ in 0..<100 where status.workers.count < 2 {
                    try await Task.sleep(for: .milliseconds(100))
                    status = try await client.brokerStatus()
                }
                #expect(status.workers.count == 2)
                return (up, client)
            } catch {
                stopUp(up)
                throw error
            }
        }

        /// Ends a `zgrid up` started by ``startUp(config:endpoint:)`` and its workers, if still running.
        private func stopUp(_ up: Process) {
            if up.isRunning {
                for child in children(of: up.processIdentifier) { kill(child, SIGKILL) }
            }
            endProcess(up)
        }

        /// Logs at `logLevel`; `broker` adds lines to the `[broker]` section, `pool` to the `[[pool]]` table.
        /// Liveness is 2 s (10 beats of 200 ms): with 0.8 s, a worker stalled on a loaded 2-core
        /// machine was once declared lost before the forced stop under test, and its call failed as
        /// "worker lost" instead of "shutting down".
        private func writeConfig(
            _ path: String, endpoint: String, functions: String = "\"echo\"", logLevel: String = "error", broker: String = "",
            pool: String = ""
        ) throws {
            try """
            [broker]
            bind = ["\(endpoint)"]
            heartbeat_ms = 200
            liveness = 10
            log_level = "\(logLevel)"
            \(broker)

            [jobs]
            store = ""

            [[pool]]
            name = "echoes"
            functions = [\(functions)]
            processes = 2
            concurrency = 2
            \(pool)
            """.write(toFile: path, atomically: true, encoding: .utf8)
        }

        @Test("zgrid up starts the workers of a pool with a negative seed (a valid integer) instead of giving them a bad command line")
        func negativeSeed() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let config = directory.file("cluster.conf")
            let endpoint = "tcp://127.0.0.1:\(try freePort())"
            try writeConfig(config, endpoint: endpoint, pool: "seed = -1")
            let (up, client) = try await startUp(config: config, endpoint: endpoint)
            defer { stopUp(up) }
            #expect(try await client.call("echo", bytes("seeded")) == bytes("seeded"))
            await client.close()
        }

        @Test("zgrid up warns when its workers have not registered 10 s after start, naming where they connect; not when they have")
        func unregisteredWorkersReported() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let config = directory.file("cluster.conf")
            let log = directory.file("stderr")
            let endpoint = "tcp://127.0.0.1:\(try freePort())"
            let warning = "worker processes have registered with the broker 10 s after start"
            // Registered: no warning by the time it would come.
            try writeConfig(config, endpoint: endpoint, logLevel: "warning")
            let (healthy, client) = try await startUp(config: config, endpoint: endpoint, log: log)
            await client.close()
            try await Task.sleep(for: .seconds(12))  // past the 10 s of LocalCluster.registrationCheckDelay
            #expect(!(readText(log) ?? "").contains(warning), "\(readText(log) ?? "")")
            stopUp(healthy)
            // Connecting where no broker listens: the workers never register, and zgrid up says so.
            let nowhere = "tcp://127.0.0.1:\(try freePort())"
            try writeConfig(config, endpoint: endpoint, logLevel: "warning", broker: "connect = \"\(nowhere)\"")
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            let lost = try launchZGrid(["up", "--config", config], standardError: FileHandle(forWritingAtPath: log))
            defer { stopUp(lost) }
            try await waitUntil("zgrid up warned", seconds: 40) {
                readText(log)?.contains("only 0 of 2 \(warning); they connect to \(nowhere)") == true
            }
        }

        @Test("workers of a zgrid up killed with SIGKILL stop on their own instead of living on as orphans")
        func workersOutliveNoSupervisor() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let config = directory.file("cluster.conf")
            try writeConfig(config, endpoint: "tcp://127.0.0.1:\(try freePort())")
            let up = try launchZGrid(["up", "--config", config])
            defer { stopUp(up) }  // when a wait below fails: up, its broker and its workers must not outlive the test
            try await waitUntil("two workers", seconds: 20) { children(of: up.processIdentifier).count == 2 }
            let workers = children(of: up.processIdentifier)
            defer { for pid in workers where isRunning(pid) { kill(pid, SIGKILL) } }
            kill(up.processIdentifier, SIGKILL)
            up.waitUntilExit()
            try await waitUntil("the orphaned workers stopped", seconds: 10) { !workers.contains(where: isRunning) }
        }

        @Test("zgrid up refuses a pool naming a function that is not a built-in, before starting anything, naming line and key")
        func poolWithUnknownFunction() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let config = directory.file("cluster.conf")
            try writeConfig(config, endpoint: "tcp://127.0.0.1:\(try freePort())", functions: "\"echo\", \"resize\"")
            let output = directory.file("stderr")
            _ = FileManager.default.createFile(atPath: output, contents: nil)
            let up = try launchZGrid(["up", "--config", config], standardError: FileHandle(forWritingAtPath: output))
            defer {
                for child in children(of: up.processIdentifier) { kill(child, SIGKILL) }
                endProcess(up)
            }
            try await waitUntil("zgrid up exited", seconds: 10) { !up.isRunning }
            #expect(up.terminationStatus == 78, "EX_CONFIG")
            let message = readText(output) ?? ""
            // As every other error of the file: the file, the line, the key, what was expected.
            #expect(
                message.contains("\(config):13: pool[0].functions[1]: expected one of the built-in functions echo, ")
                    && message.contains("got \"resize\" ('zgrid up' runs built-in workers only"), "\(message)")
        }

        /// Runs `zgrid up` with a second pool, `more`, after the first's keys `pool` (serving
        /// `functions`), and expects it to exit 78 before starting anything, saying what `says`
        /// makes of the file's path.
        private func expectPoolsRefused(functions: String = "\"echo\"", pool: String, says: (String) -> String) async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let config = directory.file("cluster.conf")
            try writeConfig(config, endpoint: "tcp://127.0.0.1:\(try freePort())", functions: functions, pool: pool)
            let run = try await runZGrid(["up", "--config", config], in: directory, seconds: 20)
            #expect(run.status == 78, "EX_CONFIG: \(run)")
            #expect(run.errors.contains(says(config)), "\(run)")
            #expect(!run.output.contains("listening"), "\(run)")
        }

        @Test("zgrid up refuses pools holding echo with other shard totals (one would be refused by the broker forever), starting nothing")
        func poolsWithOtherShardTotals() async throws {
            try await expectPoolsRefused(
                pool: "shards = \"0-1/2\"\n\n[[pool]]\nname = \"more\"\nfunctions = [\"echo\"]\nshards = \"0-3/4\""
            ) {
                "\($0):21: pool[1].shards: expected shards out of 2 for \"echo\", as pool[0] (\"echoes\") on line 16 holds it, got shards out of 4"
            }
        }

        @Test("zgrid up refuses pools serving search with other seeds (their answers would differ), starting nothing")
        func poolsWithOtherSeeds() async throws {
            try await expectPoolsRefused(functions: "\"search\"", pool: "\n[[pool]]\nname = \"more\"\nfunctions = [\"search\"]\nseed = 7") {
                "\($0):20: pool[1].seed: expected seed 42 for \"search\", as pool[0] (\"echoes\") on line 11 has (42 when not given), got 7"
            }
        }

        @Test("zgrid up starts the configured workers, restarts one that crashes, and stops everything on SIGINT")
        func superviseAndStop() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let endpoint = "tcp://127.0.0.1:\(try freePort())"
            let config = directory.file("cluster.conf")
            try writeConfig(config, endpoint: endpoint)
            let (up, client) = try await startUp(config: config, endpoint: endpoint)
            defer { stopUp(up) }
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

        @Test(
            "zgrid up keeps trying to start a crashed worker whose executable is missing for a while (zgrid rebuilt), and starts it once it is back"
        )
        func restartWhenExecutableIsBack() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let endpoint = "tcp://127.0.0.1:\(try freePort())"
            let config = directory.file("cluster.conf")
            try writeConfig(config, endpoint: endpoint, logLevel: "warning")
            // A copy of zgrid that the test can take away, as a build replacing it does for a moment.
            let executable = directory.file("zgrid")
            let away = directory.file("zgrid.away")
            try FileManager.default.copyItem(atPath: try zgridExecutable().path, toPath: executable)
            let log = directory.file("up.log")
            let (up, client) = try await startUp(config: config, endpoint: endpoint, log: log, executable: executable)
            defer { stopUp(up) }
            let workers = children(of: up.processIdentifier)
            try FileManager.default.moveItem(atPath: executable, toPath: away)
            kill(workers[0], SIGKILL)
            // Two failed starts: the first retry came after a failed start, not only after the crash.
            try await waitUntil("two failed starts logged", seconds: 20) {
                (readText(log) ?? "").components(separatedBy: "cannot start echoes-0 from \(executable)").count > 2
            }
            try FileManager.default.moveItem(atPath: away, toPath: executable)
            try await waitUntil("the worker started again", seconds: 20) {
                let now = children(of: up.processIdentifier)
                return now.count == 2 && now.contains(workers[1]) && !now.contains(workers[0])
            }
            #expect(try await client.call("echo", bytes("back"), timeout: .seconds(10), idempotent: true) == bytes("back"))
            let text = readText(log) ?? ""
            #expect(text.contains("restarting in") && text.contains("times in a row)"), "\(text)")
            await client.close()
            kill(up.processIdentifier, SIGINT)
            let exited = try await waitForExit(up, seconds: 20)
            #expect(exited, "zgrid up still runs 20 s after SIGINT")
            if exited { expectExitedCleanly(up, "zgrid up") }
        }

        /// Starts `zgrid up` with a `sleep` call running on one of its workers, sends it `first`
        /// when given (it keeps running: the call holds it), then `force`, after which it must
        /// force its workers out, fail the call as shutting down and exit 0 at once.
        private func expectWorkersForcedOut(first: Int32?, force: Int32) async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let endpoint = "tcp://127.0.0.1:\(try freePort())"
            let config = directory.file("cluster.conf")
            try writeConfig(config, endpoint: endpoint, functions: "\"sleep\"")
            let (up, client) = try await startUp(config: config, endpoint: endpoint)
            defer { stopUp(up) }
            var status = try await client.brokerStatus()
            let call = Task {
                await outcome { () async throws(GridError) in try await client.call("sleep", bytes("60000"), timeout: .seconds(90)) }
            }
            for _ in 0..<100 where !status.workers.contains(where: { $0.inFlight == 1 }) {
                try await Task.sleep(for: .milliseconds(50))
                status = try await client.brokerStatus()
            }
            #expect(status.workers.contains { $0.inFlight == 1 }, "the call did not reach a worker")
            try await Task.sleep(for: .milliseconds(100))
            let workers = children(of: up.processIdentifier)
            // Usually well under a second; the bound is far below the 60 s the call would hold a
            // gracefully stopping cluster.
            guard try await expectForcedExit(up, "zgrid up", first: first, force: force, bound: .seconds(6)) else { return }
            for pid in workers { #expect(!isRunning(pid), "worker \(pid) still running after zgrid up stopped") }
            let result = await call.value
            guard case .failure(.shuttingDown) = result else {
                Issue.record("expected shuttingDown, got \(result)")
                return
            }
            await client.close()
        }

        @Test("a second SIGINT makes a stopping zgrid up force its workers out instead of waiting for their running calls")
        func secondSignalForcesWorkersOut() async throws {
            try await expectWorkersForcedOut(first: SIGINT, force: SIGINT)
        }

        @Test("SIGQUIT makes zgrid up force its workers out at once and exit 0")
        func quitForcesWorkersOut() async throws {
            try await expectWorkersForcedOut(first: nil, force: SIGQUIT)
        }

        @Test(
            "a graceful stop of zgrid up forces its workers out at the end of shutdown_grace_ms: a call running past it fails as shutting down"
        )
        func graceEndsInForcedStop() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let endpoint = "tcp://127.0.0.1:\(try freePort())"
            let config = directory.file("cluster.conf")
            try writeConfig(config, endpoint: endpoint, functions: "\"sleep\"", logLevel: "warning", broker: "shutdown_grace_ms = 1500")
            let log = directory.file("up.log")
            let (up, client) = try await startUp(config: config, endpoint: endpoint, log: log)
            defer { stopUp(up) }
            func sleepCall(_ milliseconds: Int) -> Task<Result<[UInt8], GridError>, Never> {
                Task {
                    await outcome { () async throws(GridError) in
                        try await client.call("sleep", bytes("\(milliseconds)"), timeout: .seconds(90))
                    }
                }
            }
            let short = sleepCall(700)
            let long = sleepCall(60_000)
            var status = try await client.brokerStatus()
            for _ in 0..<100 where status.workers.reduce(0, { $0 + $1.inFlight }) < 2 {
                try await Task.sleep(for: .milliseconds(20))
                status = try await client.brokerStatus()
            }
            #expect(status.workers.reduce(0, { $0 + $1.inFlight }) == 2, "the calls did not reach the workers")
            guard let took = try await timedExit(up, "zgrid up", after: SIGINT, seconds: 20) else { return }
            expectExitedCleanly(up, "zgrid up")
            // The long call holds the workers through the grace (1.5 s), then they are forced out:
            // far sooner than the 10 s after which they were once killed, whatever the grace.
            #expect(took > .milliseconds(1_300) && took < .seconds(7), "zgrid up took \(took) to stop")
            let shortResult = await short.value
            #expect((try? shortResult.get()) != nil, "the call shorter than the grace: \(shortResult)")
            let longResult = await long.value
            guard case .failure(.shuttingDown(let message)) = longResult, message.contains("stopped by force") else {
                Issue.record("expected the worker's shuttingDown, got \(longResult)")
                return
            }
            let text = readText(log) ?? ""
            #expect(text.contains("forcing them out") && !text.contains("killing"), "\(text)")
            await client.close()
        }

        @Test("zgrid up stopped just after a worker crashed does not start it again")
        func noRestartOnceStopping() async throws {
            // The stop once took effect up to 200 ms late, when a crashed worker could be restarted
            // (its back-off is 200 ms): two rounds make that race all but certain to show.
            for round in 1...2 {
                let directory = try TemporaryDirectory()
                defer { directory.remove() }
                let endpoint = "tcp://127.0.0.1:\(try freePort())"
                let config = directory.file("cluster.conf")
                try writeConfig(config, endpoint: endpoint, logLevel: "info")
                let log = directory.file("up.log")
                let (up, client) = try await startUp(config: config, endpoint: endpoint, log: log)
                defer { stopUp(up) }
                await client.close()
                kill(children(of: up.processIdentifier)[0], SIGKILL)
                try await Task.sleep(for: .milliseconds(150))
                kill(up.processIdentifier, SIGTERM)
                let exited = try await waitForExit(up, seconds: 20)
                #expect(exited, "zgrid up still runs 20 s after SIGTERM (round \(round))")
                guard exited else { return }
                expectExitedCleanly(up, "zgrid up")
                let text = readText(log) ?? ""
                guard let stop = text.range(of: "SIGTERM: ") else {
                    Issue.record("no SIGTERM line in the log: \(text)")
                    return
                }
                #expect(!text[stop.upperBound...].contains("started echoes-"), "a worker started after the stop (round \(round)): \(text)")
            }
        }
    }
}
