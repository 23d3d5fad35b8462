import Foundation
import Synchronization
import Testing
import ZGridClient

extension IntegrationTests {
    /// A JOB CANCEL is answered only once the cancel is on disk, so that a client told "cancelled"
    /// can trust it even when the broker is killed right after the answer.
    @Suite("JOB CANCEL durable before its answer", .serialized, .timeLimit(.minutes(2)))
    struct CancelDurabilityTests {
        @Test("while the store cannot write, a JOB CANCEL is not answered 'cancelled'; after a SIGKILL the job is as the store had it")
        func cancelNotAnsweredBeforeDisk() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let (endpoint, arguments) = try storeBrokerCommand(in: directory)
            var broker = try launchZGrid(arguments)
            defer { endProcess(broker) }
            let client = try GridClient(broker: endpoint)
            let id = try await client.submit("later", bytes("x"), options: JobOptions(delay: .seconds(3600)))
            // Another process holds the store's write lock: the broker's next write waits for it.
            let lock = try await StoreWriteLock(path: directory.file("jobs.sqlite"))
            let answered = Mutex<Result<JobStatus, GridError>?>(nil)
            let cancelling = Task {
                let result = await outcome { () async throws(GridError) in try await client.cancel(job: id) }
                answered.withLock { $0 = result }
            }
            // Without the fix the answer comes at once; with it, none comes while the lock is held
            // (or, past the store's 5 s busy timeout, ERROR INTERNAL).
            try? await waitUntilQuietly(seconds: 3) { answered.withLock { $0 != nil } }
            kill(broker.processIdentifier, SIGKILL)
            broker.waitUntilExit()
            lock.release()
            _ = await cancelling.value
            await client.close()
            broker = try launchZGrid(arguments)
            let after = try GridClient(broker: endpoint)
            let status = try await after.status(job: id)
            switch answered.withLock({ $0 }) {
            case .success(let job):
                #expect(
                    job.state != "cancelled" || status.state == "cancelled", "told cancelled, but after the kill the job is \(status.state)"
                )
            case .failure, nil:
                #expect(status.state == "scheduled", "a cancel that was not answered left the job as it was")
            }
            // A cancel answered now is on disk: it holds across another SIGKILL.
            #expect(try await after.cancel(job: id).state == "cancelled")
            kill(broker.processIdentifier, SIGKILL)
            broker.waitUntilExit()
            await after.close()
            broker = try launchZGrid(arguments)
            let third = try GridClient(broker: endpoint)
            #expect(try await third.status(job: id).state == "cancelled")
            await third.close()
            kill(broker.processIdentifier, SIGTERM)
            broker.waitUntilExit()
        }
    }
}

/// A `zgrid broker` on a free loopback port with the job store `jobs.sqlite` in `directory`: its
/// endpoint, and the arguments that start it (again, after a kill, on the same store).
func storeBrokerCommand(in directory: TemporaryDirectory) throws -> (endpoint: String, arguments: [String]) {
    let endpoint = "tcp://127.0.0.1:\(try freePort())"
    return (endpoint, ["broker", "--bind", endpoint, "--job-store", directory.file("jobs.sqlite"), "--log-level", "error"])
}

/// Polls `condition` every 10 ms until it holds or `seconds` have passed, without failing the test.
func waitUntilQuietly(seconds: Double, _ condition: () -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() && Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
}

/// SQLite's write lock on a job store, held by another process (python3's `sqlite3`, in a
/// `BEGIN IMMEDIATE` transaction) until ``release()``: meanwhile the broker's writes wait.
final class StoreWriteLock {
    private let process: Process
    private let input: Pipe

    /// Takes the lock on the store at `path`; returns once it is held.
    init(path: String) async throws {
        process = Process()
        input = Pipe()
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.script, path]
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let reader = output.fileHandleForReading
        let line = await onThread { String(decoding: reader.readData(ofLength: 7), as: UTF8.self) }
        guard line == "locked\n" else {
            process.terminate()
            process.waitUntilExit()
            throw LaunchError(message: "python3 could not lock the store \(path) (printed '\(line)')")
        }
    }

    /// Ends the transaction and waits for the process to exit.
    func release() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    private static let script = """
        import sqlite3, sys
        db = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        print("locked", flush=True)
        sys.stdin.read()
        db.execute("ROLLBACK")
        """
}
