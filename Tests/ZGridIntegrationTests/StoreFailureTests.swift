import Foundation
import Testing
import ZGridClient
import ZGridProtocol
import ZGridWorker

extension IntegrationTests {
    @Suite(
        "a broker whose job store cannot grow", .serialized, .timeLimit(.minutes(1)),
        .disabled(
            if: underThreadSanitizer,
            "ThreadSanitizer's runtime dies of SIGBUS at start in a process with a file size limit (ulimit -f), which this test sets"
        ))
    struct StoreFailureTests {
        /// Runs `body` with a `zgrid broker` on a free port (the process, its endpoint and the file its
        /// log goes to, once its job store is open) whose files may not grow past 256 KiB (bash counts
        /// KiB), with SIGXFSZ ignored: a commit past that fails (EFBIG), as on a full disk. The broker
        /// is ended and its directory removed afterwards.
        func withLimitedBroker(_ body: (_ broker: Process, _ endpoint: String, _ log: String) async throws -> Void) async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let (broker, endpoint, log) = try await limitedBroker(in: directory)
            defer { endProcess(broker) }
            try await body(broker, endpoint, log)
        }

        /// Starts the broker of ``withLimitedBroker(_:)`` in `directory`.
        func limitedBroker(in directory: TemporaryDirectory) async throws -> (process: Process, endpoint: String, log: String) {
            let limiter = directory.file("limit.sh")
            try "#!/bin/bash\ntrap '' XFSZ\nulimit -f 256\nexec \"$@\"\n".write(toFile: limiter, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: limiter)
            return try await loggedStoreBroker(in: directory, store: directory.file("jobs.sqlite"), through: limiter)
        }

        @Test(
            "a job store that cannot grow fails only the submits it could not store, keeps the stored jobs, and is logged as a store failure, not as a message dropped from no peer"
        )
        func storeThatCannotGrow() async throws {
            try await withLimitedBroker { broker, endpoint, log in
                let client = try GridClient(broker: endpoint)
                let stored = try await client.submit("absent", bytes("small"))
                let tooLarge = await outcome { () async throws(GridError) in
                    try await client.submit("absent", [UInt8](repeating: 120, count: 300_000))
                }
                guard case .failure(.internal(let message)) = tooLarge else {
                    Issue.record("expected the store's failure, got \(tooLarge)")
                    return
                }
                #expect(message.contains("the job store failed"), "\(message)")
                let after = try await client.submit("absent", bytes("small again"))
                #expect(try await client.status(job: stored).state == "queued")
                #expect(try await client.status(job: after).state == "queued")
                await client.close()
                guard try await timedExit(broker, "zgrid broker", after: SIGTERM, seconds: 15) != nil else { return }
                let text = readText(log) ?? ""
                #expect(text.contains("job store failed"), "\(text)")
                #expect(!text.contains("dropped message from"), "\(text)")
            }
        }

        @Test(
            "commits that keep failing are logged once, not once each nor once per turn between failing and succeeding, and the first commit that succeeds after the logged failure says so"
        )
        func failuresLoggedOnce() async throws {
            try await withLimitedBroker { broker, endpoint, log in
                let client = try GridClient(broker: endpoint)
                // Four too-large submits fail, a small one is stored; then three more fail, and
                // another small one is stored, as on a disk with little room left.
                for failing in [4, 3] {
                    for _ in 0..<failing {
                        let tooLarge = await outcome { () async throws(GridError) in
                            try await client.submit("absent", [UInt8](repeating: 120, count: 300_000))
                        }
                        guard case .failure(.internal) = tooLarge else {
                            Issue.record("expected the store's failure, got \(tooLarge)")
                            return
                        }
                    }
                    _ = try await client.submit("absent", bytes("small"))
                }
                await client.close()
                guard try await timedExit(broker, "zgrid broker", after: SIGTERM, seconds: 15) != nil else { return }
                let lines = (readText(log) ?? "").split(separator: "\n")
                #expect(lines.filter { $0.contains("job store failed") }.count == 1, "\(lines)")
                #expect(lines.filter { $0.contains("job store commits again") }.count == 1, "\(lines)")
                #expect(lines.contains { $0.contains("job store commits again, after 4 failed commits") }, "\(lines)")
            }
        }

        @Test(
            "a job whose final record the store cannot write is never reported succeeded: the WAIT held on it fails INTERNAL and its status stays unfinished"
        )
        func finalWriteThatCannotGrow() async throws {
            try await withLimitedBroker { _, endpoint, _ in
                // The job's payload is small; its result is too large for the store to take.
                let gate = Gate()
                let worker = Worker(broker: endpoint, concurrency: 2, heartbeat: testHeartbeat, logger: quietLogger("test.worker"))
                worker.register("large") { _ in
                    await gate.wait()
                    return [UInt8](repeating: 120, count: 300_000)
                }
                let running = RunningWorker(worker: worker, task: Task { try await worker.run() })
                let client = try GridClient(broker: endpoint)
                let id = try await client.submit("large", bytes("x"), options: JobOptions(maxAttempts: 1))
                let answer = try #require(await rawHeldWait(endpoint, job: id) { gate.open() }, "no answer to the WAIT")
                #expect(answer.command == ClientCommand.error.rawValue, "not an ERROR: \(answer)")
                #expect(answer.code == ErrorCode.internal.rawValue, "\(answer)")
                #expect(answer.text.contains("the job store failed") && answer.text.contains("may not be on disk"), "\(answer)")
                let status = try await client.status(job: id)
                #expect(status.state == "running", "the store still holds the job unfinished, to run again after a restart: \(status)")
                await client.close()
                await running.stop()
            }
        }
    }
}

/// Sends JOB WAIT (request 1) and then JOB STATUS (request 2) of job `id` to the broker at
/// `endpoint` on one connection; once the STATUS is answered (so the WAIT is held), calls `held`,
/// and returns the WAIT's answer.
private func rawHeldWait(_ endpoint: String, job id: UInt64, held: @escaping @Sendable () -> Void) async -> RawAnswer? {
    let messages = [(UInt64(1), JobVerb.wait, UInt32(30_000)), (2, .status, 0)].map { request, verb, wait in
        [ProtocolTag.client, [ClientCommand.job.rawValue], .bigEndian(request), [verb.rawValue], .bigEndian(id), .bigEndian(wait)]
    }
    let answers = await rawClientAnswers(endpoint, sending: messages) { answer in
        if answer.requestID == 2 { held() }
        return answer.requestID != 2
    }
    return answers.first { $0.requestID != 2 }
}

/// Starts a `zgrid broker` on a free port with the job store `store` and an empty configuration in
/// `directory` (run through `launcher` when given), its standard error going to a log file there;
/// returns once the log says its job store is open, with the process, its endpoint and the log's path.
func loggedStoreBroker(
    in directory: TemporaryDirectory, store: String, through launcher: String? = nil
) async throws -> (process: Process, endpoint: String, log: String) {
    let config = directory.file("cluster.conf")
    try "".write(toFile: config, atomically: true, encoding: .utf8)
    let log = directory.file("broker.log")
    _ = FileManager.default.createFile(atPath: log, contents: nil)
    let endpoint = "tcp://127.0.0.1:\(try freePort())"
    let broker = try launchZGrid(
        ["broker", "--config", config, "--bind", endpoint, "--job-store", store],
        standardError: FileHandle(forWritingAtPath: log), through: launcher)
    do {
        try await waitUntil("the broker opened its job store", seconds: 15) { (readText(log) ?? "").contains("job store open") }
    } catch {
        endProcess(broker)
        throw error
    }
    return (broker, endpoint, log)
}
