import Foundation
import Synchronization
import Testing
import ZGridClient
import ZGridWorker

extension IntegrationTests {
    /// A failed transaction fails the submits it held, and only those: a submit whose write went
    /// into a later transaction that committed is acknowledged and runs.
    @Suite("A failed commit of the job store fails only its own submits", .serialized, .timeLimit(.minutes(2)))
    struct StoreFailureScopeTests {
        @Test(
            "a submit queued behind a transaction that fails is acknowledged once its own transaction commits, and runs; every job on disk was acknowledged"
        )
        func laterSubmitSurvivesEarlierFailure() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let (endpoint, arguments) = try storeBrokerCommand(in: directory)
            let broker = try launchZGrid(arguments)
            defer { endProcess(broker) }
            let worker = Worker(broker: endpoint, concurrency: 2, heartbeat: testHeartbeat, logger: quietLogger("test.worker"))
            worker.register("job") { $0.payload }
            let running = RunningWorker(worker: worker, task: Task { try await worker.run() })
            let client = try GridClient(broker: endpoint, heartbeat: testHeartbeat)
            _ = try await client.submit("job", bytes("warm-up"))
            // Another process holds SQLite's write lock: the store's thread waits on it with the
            // first submit's transaction, up to its 5 s busy timeout, and then fails it. The second
            // submit, queued meanwhile, goes into the next transaction, which commits once the lock
            // is released.
            let lock = try await StoreWriteLock(path: directory.file("jobs.sqlite"))
            let first = Task { await outcome { () async throws(GridError) in try await client.submit("job", bytes("first")) } }
            try await Task.sleep(for: .milliseconds(500))
            let second = Task { await outcome { () async throws(GridError) in try await client.submit("job", bytes("second")) } }
            let firstOutcome = await first.value
            lock.release()
            let secondOutcome = await second.value
            guard case .failure(.internal) = firstOutcome else {
                Issue.record("the submit whose transaction waited out the lock was answered \(firstOutcome)")
                return
            }
            guard case .success(let id) = secondOutcome else {
                Issue.record("the submit whose own transaction committed was answered \(secondOutcome)")
                let stored = try await client.jobs(JobQuery(function: "job"))
                Issue.record("jobs on disk: \(stored.map { "\($0.id) \($0.state)" })")
                return
            }
            #expect(try await client.result(job: id, timeout: .seconds(20)) == bytes("second"))
            let stored = try await client.jobs(JobQuery(function: "job"))
            #expect(stored.count == 2, "the failed submit left a job on disk: \(stored.map { "\($0.id) \($0.state)" })")
            await client.close()
            await running.stop()
            kill(broker.processIdentifier, SIGTERM)
            broker.waitUntilExit()
        }
    }
}
