import Foundation
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZGridWorker

extension IntegrationTests {
    @Suite("zgrid submit --from: bulk submit of a JSON Lines file", .serialized, .timeLimit(.minutes(1)))
    struct BulkSubmitTests {
        @Test("a failed bulk submit names the file's first line not stored, counting blank lines")
        func failureNamesFirstLineNotStored() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let broker = try startBroker(maxMessageBytes: 4096, jobStore: directory.file("jobs.db"))
            defer { broker.stop() }
            let config = directory.file("cluster.conf")
            try """
            [broker]
            log_level = "error"
            """.write(toFile: config, atomically: true, encoding: .utf8)
            // Line 5 fails once the client knows the broker's frame limit (after a round trip).
            let large = String(repeating: "x", count: 5000)
            let jobs = directory.file("jobs.jsonl")
            try """
            {"function": "echo", "unique_key": "line 1"}

            {"function": "echo", "unique_key": "line 3"}
            \("  ")
            {"function": "echo", "unique_key": "line 5", "payload": "\(large)"}
            {"function": "echo", "unique_key": "line 6", "priority": 4}
            {"function": "echo", "unique_key": "line 7"}

            """.write(toFile: jobs, atomically: true, encoding: .utf8)
            let log = directory.file("submit.log")
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            let process = try launchZGrid(
                ["submit", "--config", config, "--connect", broker.endpoints[0], "--from", jobs],
                standardError: FileHandle(forWritingAtPath: log))
            defer { endProcess(process) }
            let exited = try await waitForExit(process, seconds: 30)
            #expect(exited, "zgrid submit still runs 30 s after it started")
            guard exited else { return }
            #expect(process.terminationReason == .exit && process.terminationStatus == 1, "exit status \(process.terminationStatus)")
            let text = readText(log) ?? ""
            let lines = text.split(whereSeparator: { $0 == "\n" || $0 == "\r" })
            let failure = lines.first { $0.hasPrefix("\(jobs):") } ?? ""
            #expect(failure.hasPrefix("\(jobs):5: ") && failure.contains("max_message_bytes"), "\(text)")
            #expect(text.contains("the first being line 5: every line before it is stored"), "\(text)")
            // A unique key coalesces only with an unfinished job: resubmitting is not safe in general.
            #expect(text.contains("makes no second job of one still unfinished"), "\(text)")
            #expect(!text.contains("is safe"), "\(text)")
            // Lines 1 and 3 are stored; 6 and 7 may be, when their submits went out before the failure.
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let stored = Set(try await client.jobs().compactMap(\.uniqueKey))
            #expect(
                stored.isSuperset(of: ["line 1", "line 3"]) && stored.isSubset(of: ["line 1", "line 3", "line 6", "line 7"]), "\(stored)")
            await client.close()
        }

        /// Runs `zgrid submit --from` on a file of `lines` against `broker`; returns the process
        /// (ended, or still running after 30 s) and its standard error.
        private func bulkSubmit(_ lines: [String], to broker: BrokerServer, in directory: TemporaryDirectory) async throws -> (
            Process, String
        ) {
            let jobs = directory.file("jobs.jsonl")
            try (lines.joined(separator: "\n") + "\n").write(toFile: jobs, atomically: true, encoding: .utf8)
            let log = directory.file("submit.log")
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            let process = try launchZGrid(
                ["submit", "--connect", broker.endpoints[0], "--from", jobs, "--log-level", "error"],
                standardError: FileHandle(forWritingAtPath: log))
            defer { endProcess(process) }
            let exited = try await waitForExit(process, seconds: 30)
            #expect(exited, "zgrid submit still runs 30 s after it started")
            return (process, readText(log) ?? "")
        }

        @Test("a --from path that is a directory or missing is refused (64) with its path, not a crash")
        func unreadableFileIsRefused() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let endpoint = "tcp://127.0.0.1:\(try freePort())"
            let folder = try await refusedRun(["submit", "--connect", endpoint, "--from", directory.path], in: directory)
            #expect(folder.status == 64, "\(folder)")
            #expect(folder.errors.contains("cannot read \(directory.path): it is a directory"), "\(folder)")
            let missing = try await refusedRun(["submit", "--connect", endpoint, "--from", directory.file("none.jsonl")], in: directory)
            #expect(missing.status == 64, "\(missing)")
            #expect(missing.errors.contains("cannot open \(directory.file("none.jsonl"))"), "\(missing)")
        }

        @Test("a bulk line with a key it does not take, or a value out of range, stops the run before anything is stored (exit 64)")
        func badLinesStoreNothing() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let broker = try startBroker(jobStore: directory.file("jobs.db"))
            defer { broker.stop() }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let cases: [(line: String, says: String)] = [
                (#"{"function": "echo", "delay": 600000}"#, #"jobs.jsonl:2: unknown key "delay" (did you mean "delay_ms"?)"#),
                (#"{"function": "echo", "priorty": 9}"#, #"jobs.jsonl:2: unknown key "priorty" (did you mean "priority"?)"#),
                (#"{"function": "echo", "priority": 10}"#, "jobs.jsonl:2: invalid argument: priority 10 is outside 0...9"),
                (#"{"function": "echo", "time_limit_ms": 0}"#, "jobs.jsonl:2: invalid argument: timeLimit"),
                (#"{"function": "echo", "delay_ms": -1}"#, "jobs.jsonl:2: invalid argument: delay -0.001 seconds is negative"),
            ]
            for (line, says) in cases {
                let (process, text) = try await bulkSubmit([#"{"function": "echo"}"#, line], to: broker, in: directory)
                #expect(process.terminationReason == .exit && process.terminationStatus == 64, "\(line): exit \(process.terminationStatus)")
                #expect(text.contains(says), "\(line): \(text)")
            }
            #expect(try await client.jobs().isEmpty, "a job was stored")
            await client.close()
        }

        @Test("a bulk line's time_limit_ms, backoff_ms and result_ttl_s reach the job: a 100 ms limit ends a long attempt")
        func timeLimitBackoffAndTTLReachTheJob() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let broker = try startBroker(jobStore: directory.file("jobs.db"))
            defer { broker.stop() }
            let worker = try await startWorker(broker) { worker in
                worker.register("long") { _ in
                    try await Task.sleep(for: .seconds(30))
                    return []
                }
            }
            let (process, text) = try await bulkSubmit(
                [#"{"function": "long", "time_limit_ms": 100, "backoff_ms": 10, "max_attempts": 2, "result_ttl_s": 600}"#], to: broker,
                in: directory)
            #expect(process.terminationReason == .exit && process.terminationStatus == 0, "exit \(process.terminationStatus): \(text)")
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            // Two attempts of 100 ms, 10 ms apart (with jitter): dead well within the wait.
            var job = try await client.jobs().first
            let deadline = Date().addingTimeInterval(10)
            while job?.state != "dead", Date() < deadline {
                try await Task.sleep(for: .milliseconds(50))
                job = try await client.jobs().first
            }
            #expect(job?.state == "dead" && job?.attempts == 2, "\(String(describing: job))")
            await client.close()
            await worker.stop()
        }
    }
}

extension IntegrationTests.BulkSubmitTests {
    @Test("a bulk submit refused by admission control narrows to about one submit per retry-after, not one per line in flight")
    func admissionRefusalsNarrowTheWindow() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let endpoint = "tcp://127.0.0.1:\(try freePort())"
        let config = directory.file("cluster.conf")
        try """
        [broker]
        bind = ["\(endpoint)"]
        connect = "\(endpoint)"
        log_level = "error"

        [jobs]
        store = "\(directory.file("jobs.db"))"

        [[function]]
        name = "slow"
        max_queue_wait_ms = 1000
        """.write(toFile: config, atomically: true, encoding: .utf8)
        let broker = try launchZGrid(["broker", "--config", config])
        defer { endProcess(broker) }
        // One job at a time, 200 ms each: about 5 a second drain.
        let worker = Worker(broker: endpoint, concurrency: 1, heartbeat: HeartbeatSettings(), logger: quietLogger("test.worker"))
        worker.register("slow") { _ in
            try await Task.sleep(for: .milliseconds(200))
            return []
        }
        let workerTask = Task { try await worker.run() }
        let client = try GridClient(broker: endpoint)
        for _ in 0..<3 { _ = try await client.submit("slow") }  // a drain rate
        try await Task.sleep(for: .milliseconds(800))
        let jobs = directory.file("jobs.jsonl")
        try String(repeating: #"{"function": "slow"}"# + "\n", count: 2000).write(toFile: jobs, atomically: true, encoding: .utf8)
        let submit = try launchZGrid(["submit", "--config", config, "--from", jobs])
        defer { endProcess(submit) }
        try await Task.sleep(for: .seconds(1))
        let before = try await client.brokerStatus().counters["admission_refusals"] ?? 0
        try await Task.sleep(for: .seconds(4))
        let after = try await client.brokerStatus().counters["admission_refusals"] ?? 0
        // 256 lines in flight each retrying after its own retry-after (50 ms at least) made thousands a second.
        #expect(after - before < 2000, "\(after - before) refusals in 4 s")
        #expect(after > before, "admission control refused nothing: the test did not test")
        await client.close()
        worker.stop(force: true)
        _ = await workerTask.result
    }
}
