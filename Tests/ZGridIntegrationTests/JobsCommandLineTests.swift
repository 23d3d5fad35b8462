import Foundation
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZGridWorker
import ZeroMQ

extension IntegrationTests {
    @Suite("zgrid jobs and submit on the command line, against a real broker and job store", .serialized, .timeLimit(.minutes(2)))
    struct JobsCommandLineTests {
        /// A broker with a job store, a worker serving `echo`, and a config file naming the broker.
        struct Grid {
            let directory: TemporaryDirectory
            let broker: BrokerServer
            let worker: RunningWorker
            let client: GridClient
            let config: String

            /// Starts the grid; `functions` are the broker's per-function policies.
            static func start(functions: [String: FunctionPolicy] = [:]) async throws -> Grid {
                let directory = try TemporaryDirectory()
                let broker = try startBroker(jobStore: directory.file("jobs.sqlite"), functions: functions)
                let worker = try await startWorker(broker) { $0.register("echo") { $0.payload } }
                let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
                let config = directory.file("cluster.conf")
                try "[broker]\nconnect = \"\(broker.endpoints[0])\"\nlog_level = \"error\"\n".write(
                    toFile: config, atomically: true, encoding: .utf8)
                return Grid(directory: directory, broker: broker, worker: worker, client: client, config: config)
            }

            /// Runs `zgrid` with `arguments` and this grid's config.
            func zgrid(_ arguments: String...) async throws -> CommandRun {
                try await runZGrid(arguments + ["--config", config], in: directory)
            }

            /// Submits a job of `echo` with `tags` and waits for it to succeed; returns its id.
            func finishedJob(_ payload: String, tags: [String]) async throws -> UInt64 {
                let id = try await client.submit("echo", bytes(payload), options: JobOptions(tags: tags))
                _ = try await client.result(job: id, timeout: .seconds(10))
                return id
            }

            func stop() async {
                await client.close()
                await worker.stop()
                broker.stop()
                directory.remove()
            }
        }

        @Test("zgrid jobs purge --tag deletes only the finished jobs with that tag; filters it cannot honour are refused (64)")
        func purgeHonoursTag() async throws {
            let grid = try await Grid.start()
            var keep: [UInt64] = []
            for index in 1...3 { keep.append(try await grid.finishedJob("a\(index)", tags: ["keep"])) }
            for index in 1...2 { _ = try await grid.finishedJob("b\(index)", tags: ["junk"]) }

            let purged = try await grid.zgrid("jobs", "purge", "--tag", "junk")
            #expect(purged.status == 0, "\(purged)")
            #expect(purged.output == "purged 2 jobs\n", "\(purged)")
            #expect(try await grid.client.jobs().map(\.id) == keep, "only the jobs tagged junk are gone")

            // A tag no job can carry matches none; here it is refused before anything is sent.
            for (arguments, message) in [
                (["--tag", ""], "invalid tag"), (["--tag", "keep,junk"], "invalid tag"), (["--state", "running"], "only finished jobs"),
                (["--older-than-s", "-5"], "is negative"), (["--function", "bad name"], "invalid function name"),
            ] {
                let refused = try await runZGrid(["jobs", "purge"] + arguments + ["--config", grid.config], in: grid.directory)
                #expect(refused.status == 64, "purge \(arguments): \(refused)")
                #expect(refused.errors.contains(message), "purge \(arguments): \(refused)")
            }
            #expect(try await grid.client.jobs().map(\.id) == keep, "no refused purge deleted anything")
            await grid.stop()
        }

        @Test("the broker refuses a PURGE with limit or afterID and a LIST with finishedBefore, as the client does before sending")
        func verbOnlyKeysAreRefused() async throws {
            let grid = try await Grid.start()
            let id = try await grid.finishedJob("x", tags: [])
            let client = grid.client
            let refused = [
                await outcome { () async throws(GridError) in try await client.purge(JobQuery(limit: 1)) }.map { _ in () },
                await outcome { () async throws(GridError) in try await client.purge(JobQuery(afterID: 0)) }.map { _ in () },
                await outcome { () async throws(GridError) in try await client.jobs(JobQuery(finishedBefore: 0)) }.map { _ in () },
            ]
            for result in refused {
                guard case .failure(.invalidArgument(let message)) = result else {
                    Issue.record("expected invalidArgument, got \(result)")
                    continue
                }
                #expect(message.contains("LIST") && message.contains("PURGE"), "\(message)")
            }
            // The broker refuses them too, for clients that do not check.
            for (verb, filter) in [(JobsVerb.purge, #"{"limit": 1}"#), (.purge, #"{"afterID": 0}"#), (.list, #"{"finishedBefore": 0}"#)] {
                let answer = await rawJobsCommand(grid.broker.endpoints[0], verb: verb, filter: filter)
                #expect(answer.code == ErrorCode.malformed.rawValue, "\(verb) \(filter): \(answer)")
                #expect(answer.message.contains("does not take"), "\(verb) \(filter): \(answer)")
            }
            #expect(try await client.jobs().map(\.id) == [id], "nothing was purged")
            await grid.stop()
        }

        @Test("zgrid jobs list prints one line of seven fields per job, even when an error or a tag holds a newline or a tab")
        func listKeepsOneLinePerJob() async throws {
            let grid = try await Grid.start()
            let failing = try await startWorker(grid.broker) { worker in
                worker.register("fail") { _ in throw HandlerFailure(.handlerError, "line one\nline\ttwo \\ three") }
            }
            let id = try await grid.client.submit("fail", options: JobOptions(maxAttempts: 1, tags: ["a\tb", "c\nd"]))
            await #expect(throws: GridError.self) { _ = try await grid.client.result(job: id, timeout: .seconds(10)) }
            let listed = try await grid.zgrid("jobs", "list", "--state", "dead")
            #expect(listed.status == 0, "\(listed)")
            let lines = listed.output.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            #expect(lines.count == 2, "a header and one job: \(listed.output)")
            let fields = lines.last?.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) ?? []
            #expect(fields.count == 7, "\(fields)")
            #expect(fields.first == "\(id)" && fields.dropFirst().first == "dead", "\(fields)")
            #expect(fields.dropLast().last?.hasPrefix(#"a\tb,c\nd,client:"#) == true, "\(fields)")
            #expect(fields.last == #"handler error: line one\nline\ttwo \\ three"#, "\(fields)")
            await failing.stop()
            await grid.stop()
        }

        @Test("zgrid jobs cancel exits 0 when the job is cancelled, and 1 saying so when it had already finished")
        func cancelSaysWhenNothingWasCancelled() async throws {
            let grid = try await Grid.start()
            let later = try await grid.client.submit("echo", bytes("later"), options: JobOptions(delay: .seconds(60)))
            let cancelled = try await grid.zgrid("jobs", "cancel", "\(later)")
            #expect(cancelled.status == 0 && cancelled.output.contains(#""state" : "cancelled""#), "\(cancelled)")
            let again = try await grid.zgrid("jobs", "cancel", "\(later)")
            #expect(again.status == 0, "a cancelled job stays cancelled: \(again)")
            let done = try await grid.finishedJob("done", tags: [])
            let finished = try await grid.zgrid("jobs", "cancel", "\(done)")
            #expect(finished.status == 1, "\(finished)")
            #expect(finished.output.contains(#""state" : "succeeded""#), "the record is printed as it is: \(finished)")
            #expect(finished.errors.contains("the job had already finished (succeeded); nothing was cancelled"), "\(finished)")
            await grid.stop()
        }

        @Test(
            "zgrid jobs retry exits 1 saying so for a job queued, delayed or running, or whose replace key another job holds; 0 when it queues one again"
        )
        func retrySaysWhenNothingWasRetried() async throws {
            let grid = try await Grid.start()
            let gate = Gate()
            let slow = try await startWorker(grid.broker) {
                $0.register("slow") { _ in
                    await gate.wait(); return []
                }
            }
            let running = try await grid.client.submit("slow", bytes("x"))
            try await waitUntil("the job runs") { grid.broker.status.jobs["running"] == 1 }
            let queued = try await grid.client.submit("nobody", bytes("x"))
            let delayed = try await grid.client.submit("echo", bytes("x"), options: JobOptions(delay: .seconds(60)))
            for (id, state) in [(queued, "queued"), (delayed, "scheduled"), (running, "running")] {
                let refused = try await grid.zgrid("jobs", "retry", "\(id)")
                #expect(refused.status == 1, "\(state): \(refused)")
                #expect(refused.output.contains(#""state" : "\#(state)""#), "the record is printed as it is: \(refused)")
                #expect(
                    refused.errors.contains(
                        "the job is \(state): it has not finished, and only dead, failed or cancelled jobs are retried"),
                    "\(refused)")
                #expect(try await grid.client.status(job: id).attempts == (state == "running" ? 1 : 0), "\(state): unchanged")
            }
            let done = try await grid.finishedJob("done", tags: [])
            let succeeded = try await grid.zgrid("jobs", "retry", "\(done)")
            #expect(succeeded.status == 1 && succeeded.errors.contains("the job has succeeded; only dead"), "\(succeeded)")
            try await grid.client.cancel(job: delayed)
            let retried = try await grid.zgrid("jobs", "retry", "\(delayed)")
            #expect(retried.status == 0 && retried.output.contains(#""state" : "queued""#), "\(retried)")
            // A job whose replace key a later, unfinished job holds stays as it is.
            let replaced = try await grid.client.submit("nobody", bytes("old"), options: JobOptions(replaceKey: "k"))
            _ = try await grid.client.submit("nobody", bytes("new"), options: JobOptions(replaceKey: "k"))
            let held = try await grid.zgrid("jobs", "retry", "\(replaced)")
            #expect(held.status == 1 && held.output.contains(#""state" : "cancelled""#), "\(held)")
            #expect(held.errors.contains("it was not queued again: another unfinished job holds its replace key"), "\(held)")
            gate.open()
            await slow.stop()
            await grid.stop()
        }

        @Test("zgrid jobs retry is refused BUSY at the function's max_queued_jobs, as a submit is: exits 2 saying so, and the job stays")
        func retryRespectsMaxQueuedJobs() async throws {
            let grid = try await Grid.start(functions: ["nobody": FunctionPolicy(maxQueuedJobs: 1)])
            let cancelled = try await grid.client.submit("nobody", bytes("a"), options: JobOptions(delay: .seconds(60)))
            try await grid.client.cancel(job: cancelled)
            _ = try await grid.client.submit("nobody", bytes("b"))  // the one job 'nobody' may have waiting
            let refused = try await grid.zgrid("jobs", "retry", "\(cancelled)")
            #expect(refused.status == 2, "\(refused)")
            #expect(
                refused.errors.contains(
                    "zgrid jobs retry \(cancelled): busy: job \(cancelled) was not queued again: 1 jobs waiting (queued, delayed or deferred) for 'nobody', the most allowed is 1; the job is still cancelled"
                ), "\(refused)")
            #expect(try await grid.client.status(job: cancelled).state == "cancelled", "the job stays as it was")
            await grid.stop()
        }

        @Test("zgrid jobs show prints one JSON document: the result as text (utf8) or base64 with resultEncoding, none without one")
        func showPrintsOneJSONDocument() async throws {
            let grid = try await Grid.start()
            let text = try await grid.finishedJob("hello", tags: [])
            let binary = try await grid.client.submit("echo", [0xFF, 0xFE, 0x00])
            _ = try await grid.client.result(job: binary, timeout: .seconds(10))
            let later = try await grid.client.submit("echo", bytes("later"), options: JobOptions(delay: .seconds(60)))
            for (id, result, encoding) in [(text, "hello", "utf8"), (binary, "//4A", "base64"), (later, nil, nil)] {
                let shown = try await grid.zgrid("jobs", "show", "\(id)")
                #expect(shown.status == 0, "\(shown)")
                let object = try? JSONSerialization.jsonObject(with: Data(shown.output.utf8)) as? [String: Any]
                #expect(object != nil, "not one JSON object: \(shown.output)")
                #expect((object?["id"] as? NSNumber)?.uint64Value == id, "\(shown.output)")
                #expect(object?["result"] as? String == result, "\(shown.output)")
                #expect(object?["resultEncoding"] as? String == encoding, "\(shown.output)")
            }
            await grid.stop()
        }

        @Test("an argument the client refuses before sending exits 64 with its message, whichever command; a grid error still exits 2")
        func refusedArgumentsExit64() async throws {
            let grid = try await Grid.start()
            let cases: [([String], String)] = [
                // Caught by the commands' own validation.
                (["submit", "echo", "x", "--priority", "10"], "--priority 10 is outside 0...9"),
                (["submit", "echo", "x", "--max-attempts", "0"], "--max-attempts 0"),
                (["submit", "echo", "x", "--time-limit-ms", "0"], "--time-limit-ms 0"),
                (["submit", "echo", "x", "--delay-ms", "-5000"], "--delay-ms -5000 is negative"),
                (["submit", "echo", "x", "--result-ttl-s", "0"], "--result-ttl-s 0 is below 1"),
                (["call", "echo", "x", "--timeout-ms", "0"], "--timeout-ms 0"),
                (["watch", "--name", ""], "--name must not be empty"),
                (["jobs", "list", "--limit", "0"], "--limit 0"),
                (["jobs", "wait", "1", "--timeout-s", "-1"], "--timeout-s -1 is negative"),
                (["submit", "echo", "x", "--from", "jobs.jsonl"], "--from takes every job from the file: the function cannot be given"),
                (["submit", "--from", "jobs.jsonl", "--priority", "9"], "--priority cannot be given with it"),
                (["submit", "--from", "jobs.jsonl", "--wait"], "--wait cannot be given with it"),
                (["submit", "--from", "jobs.jsonl", "--in-flight", "0"], "--in-flight 0 is below 1"),
                // Caught by the client library (GridError.invalidArgument), reported by the command or by main.
                (["submit", "echo", "x", "--tag", "a,b"], "invalid argument: tags"),
                (["submit", "echo", "x", "--delay-ms", "99999999999999999"], "past the end of year 9999"),
                (["submit", "bad name!", "x"], "invalid function name"),
                (["call", "bad name!"], "invalid function name"),
                (["scatter", "bad name!"], "invalid function name"),
                (["watch", "--name", String(repeating: "n", count: 300)], "invalid argument: a subscription name"),
                (["watch", "--tag", ""], "invalid argument: tag ''"),
                (["watch", "--function", "bad name!"], "invalid function name"),
                (["watch", "--job", "0"], "job ids start at 1"),
                (["drain", ""], "the worker id must not be empty"),
            ]
            for (arguments, message) in cases {
                let run = try await runZGrid(arguments + ["--config", grid.config], in: grid.directory)
                #expect(run.status == 64, "zgrid \(arguments.joined(separator: " ")): \(run)")
                #expect(run.errors.contains(message), "zgrid \(arguments.joined(separator: " ")): \(run)")
            }
            #expect(try await grid.client.jobs().isEmpty, "no refused submit reached the broker")
            let missing = try await grid.zgrid("jobs", "show", "999")
            #expect(missing.status == 2, "the grid's answer 'no such job' is an error of the grid: \(missing)")
            await grid.stop()
        }
    }
}

/// Sends JOBS with `verb` and the raw `filter` from a bare DEALER socket, as a client that checks
/// nothing would, and returns the broker's ERROR code and message (code 0 and a description of
/// what came instead when no ERROR came within 5 s).
private func rawJobsCommand(_ endpoint: String, verb: JobsVerb, filter: String) async -> (code: UInt16, message: String) {
    let message = [ProtocolTag.client, [ClientCommand.jobs.rawValue], .bigEndian(UInt64(7)), [verb.rawValue], bytes(filter)]
    guard let answer = await rawClientAnswers(endpoint, sending: [message], seconds: 5, until: { _ in true }).first else {
        return (0, "no answer within 5 s")
    }
    guard answer.command == ClientCommand.error.rawValue else { return (0, "not an ERROR: \(answer)") }
    return (answer.code, answer.text)
}
