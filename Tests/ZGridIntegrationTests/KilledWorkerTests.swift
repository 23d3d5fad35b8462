import Foundation
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZGridWorker

extension IntegrationTests {
    @Suite("A zgrid worker killed mid-call", .serialized, .timeLimit(.minutes(2)))
    struct KilledWorkerTests {
        /// The broker's heartbeat in these tests: an expiry of 10 s, far longer than finding a dead
        /// worker's closed connection takes (its next HEARTBEAT, 500 ms at most), so a call that
        /// ends well before the expiry was ended by that, not by the worker's silence.
        static let longExpiry = HeartbeatSettings(intervalMilliseconds: 500, liveness: 20)

        /// Well below the expiry of ``longExpiry``, with room for a loaded machine.
        static let beforeExpiry: Duration = .seconds(8)

        @Test("a worker killed with SIGKILL is lost at its next heartbeat: its call fails workerLost before the expiry")
        func killedWorkerFailsItsCallBeforeExpiry() async throws {
            try await withWorkerProcess(heartbeat: Self.longExpiry) { worker in
                let call = try await worker.runningSleep(milliseconds: 60_000)
                let killedAt = ContinuousClock.now
                kill(worker.process.processIdentifier, SIGKILL)
                let result = await call.value
                let elapsed = ContinuousClock.now - killedAt
                guard case .failure(.workerLost(let message)) = result else {
                    Issue.record("expected workerLost, got \(result)")
                    return
                }
                #expect(message.contains("sleep"), "\(message)")
                #expect(elapsed < Self.beforeExpiry, "the call failed \(elapsed) after the kill: at the expiry, not at the next heartbeat")
                let status = try await settledStatus(worker.broker)
                #expect(status.statistics.workersLost == 1)
                #expect(status.workers == 0)
            }
        }

        @Test("an idempotent call on a worker killed with SIGKILL completes on another worker before the expiry")
        func killedWorkerRetriesIdempotentCallBeforeExpiry() async throws {
            try await withWorkerProcess(heartbeat: Self.longExpiry) { worker in
                let client = worker.client
                let call = Task {
                    await outcome { () async throws(GridError) in
                        try await client.call("sleep", bytes("60000"), timeout: .seconds(90), idempotent: true)
                    }
                }
                try await waitUntil("call running") { worker.broker.status.callsInFlight == 1 }
                try await Task.sleep(for: .milliseconds(100))  // lets the worker read its REQUEST
                let spare = Worker(
                    broker: worker.broker.endpoints[0], concurrency: 1, heartbeat: Self.longExpiry, logger: quietLogger("test.spare"))
                spare.register("sleep") { _ in bytes("from the spare") }
                let spareTask = Task { try await spare.run() }
                defer { spareTask.cancel() }
                try await waitUntil("the spare worker registered") { worker.broker.status.workers == 2 }
                let killedAt = ContinuousClock.now
                kill(worker.process.processIdentifier, SIGKILL)
                let result = await call.value
                let elapsed = ContinuousClock.now - killedAt
                #expect(try result.get() == bytes("from the spare"))
                #expect(
                    elapsed < Self.beforeExpiry, "the call was re-sent \(elapsed) after the kill: at the expiry, not at the next heartbeat")
                let status = try await settledStatus(worker.broker)
                #expect(status.statistics.workersLost == 1)
                #expect(status.statistics.callsRetried == 1)
                spare.stop()
                _ = await spareTask.result
            }
        }
    }
}
