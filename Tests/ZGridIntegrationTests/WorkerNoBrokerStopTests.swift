import Foundation
import Synchronization
import Testing
import ZGridWorker

extension IntegrationTests {
    @Suite("zgrid worker stopping with no broker to leave", .serialized, .timeLimit(.minutes(1)))
    struct WorkerNoBrokerStopTests {
        @Test("a zgrid worker that never reached a broker stops at once on SIGTERM, whatever its heartbeat interval")
        func stopsAtOnceWithoutBroker() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let config = directory.file("cluster.conf")
            // Nobody listens there; a long heartbeat once made the stop wait two intervals (10 s).
            try """
            [broker]
            connect = "tcp://127.0.0.1:\(try freePort())"
            heartbeat_ms = 5000
            log_level = "error"

            [jobs]
            store = ""
            """.write(toFile: config, atomically: true, encoding: .utf8)
            let process = try launchZGrid(["worker", "--config", config, "--function", "echo"])
            defer { endProcess(process) }
            try await Task.sleep(for: .seconds(1))
            #expect(process.isRunning, "the worker ended before it was stopped")
            guard let took = try await timedExit(process, "the worker", after: SIGTERM, seconds: 20) else { return }
            // Usually a few milliseconds; the bound leaves room for a loaded machine.
            #expect(took < .seconds(4), "the worker took \(took) to stop with no broker")
            expectExitedCleanly(process, "the worker")
        }

        @Test(
            "a Worker retrying a connection libzmq refuses stops at once, gracefully or by force",
            arguments: [false, true]
        )
        func stopsWhileRetryingConnection(force: Bool) async throws {
            let worker = Worker(broker: "nonsense", concurrency: 1, heartbeat: testHeartbeat, logger: quietLogger("test.worker"))
            worker.register("echo") { request in request.payload }
            let ended = Mutex(false)
            let task = Task {
                defer { ended.withLock { $0 = true } }
                try await worker.run()
            }
            // Four failed attempts by then: the back-off between them is up to 1600 ms.
            try await Task.sleep(for: .milliseconds(1700))
            #expect(!ended.withLock { $0 }, "the worker ended before it was stopped")
            let stoppedAt = ContinuousClock.now
            worker.stop(force: force)
            try await waitUntil("the worker's run() returned after stop(force: \(force))", seconds: 10) { ended.withLock { $0 } }
            let took = ContinuousClock.now - stoppedAt
            #expect(took < .seconds(2), "the worker took \(took) to stop")
            try await task.value
        }
    }
}
