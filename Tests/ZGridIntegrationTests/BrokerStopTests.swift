import Foundation
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZGridWorker
import ZeroMQ

extension IntegrationTests {
    @Suite("A broker stopping gracefully", .serialized, .timeLimit(.minutes(2)))
    struct BrokerStopTests {
        /// A worker serving `slow`, which answers its payload after `milliseconds`.
        private func startSlowWorker(_ broker: BrokerServer, concurrency: Int = 8, milliseconds: Int) async throws -> RunningWorker {
            try await startWorker(broker, concurrency: concurrency) { worker in
                worker.register("slow") { request in
                    try await Task.sleep(for: .milliseconds(milliseconds))
                    return request.payload
                }
            }
        }

        @Test("past its grace, the broker answers the calls and scatters still in flight with shuttingDown")
        func stopPastGrace() async throws {
            let broker = try startBroker()  // 1 s shutdown grace
            let worker = try await startWorker(broker) { worker in
                worker.register("forever") { _ in
                    try await Task.sleep(for: .seconds(30))
                    return []
                }
            }
            // A client slow to notice silence (10 s): the answer has to come from the broker.
            let client = try GridClient(
                broker: broker.endpoints[0], heartbeat: HeartbeatSettings(intervalMilliseconds: 1000, liveness: 10))
            let call = Task { () async -> GridError? in
                do throws(GridError) {
                    _ = try await client.call("forever", timeout: .seconds(20))
                    return nil
                } catch { return error }
            }
            let scatter = try client.scatter("forever", bytes("q"), timeout: .seconds(20))
            try await waitUntil("the call and the scatter's part are running") { broker.status.callsInFlight == 2 }
            let started = Date()
            await onThread { broker.stop() }

            let callError = await call.value
            guard case .shuttingDown(let message) = callError else {
                Issue.record("expected shuttingDown, got \(String(describing: callError))")
                return
            }
            #expect(message.contains("stopped before the call finished"))
            let gathered = await scatter.gathered()
            guard case .shuttingDown = gathered.error else {
                Issue.record("expected the scatter to end with shuttingDown, got \(String(describing: gathered.error))")
                return
            }
            #expect(Date().timeIntervalSince(started) < 5, "answered by the broker, not found out by heartbeat silence")
            await client.close()
            await worker.stop()
        }

        @Test("refusing new work before a stop: new calls get shuttingDown at once, calls in flight finish, workers leave cleanly")
        func refuseNewWorkFirst() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let worker = try await startSlowWorker(broker, milliseconds: 300)
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let running = Task { try await client.call("slow", bytes("running"), timeout: .seconds(5)) }
            try await waitUntil("the call is running") { broker.status.callsInFlight == 1 }
            broker.refuseNewWork()
            let refused = await outcome { () async throws(GridError) in try await client.call("slow", [1], timeout: .seconds(5)) }
            guard case .failure(.shuttingDown) = refused else {
                Issue.record("expected shuttingDown, got \(refused)")
                return
            }
            #expect(try await running.value == bytes("running"))
            await worker.stop()
            // The worker's DISCONNECT was answered and it left (the status is published every 20 ms).
            try await waitUntil("the worker left") { broker.status.workers == 0 }
            #expect(broker.status.statistics.workersLost == 0)
            await client.close()
        }

        @Test("while new work is refused, a call queued for a function whose last worker leaves fails at once as shutting down")
        func queuedCallFailsWhenTheLastWorkerLeaves() async throws {
            // A grace period far longer than the test: the queued call must not wait it out.
            let broker = try startBroker(graceMilliseconds: 60_000)
            defer { broker.stop() }
            let worker = try await startSlowWorker(broker, concurrency: 1, milliseconds: 500)
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let running = Task { try await client.call("slow", bytes("running"), timeout: .seconds(10)) }
            try await waitUntil("the call is running") { broker.status.callsInFlight == 1 }
            let queued = Task {
                let started = ContinuousClock.now
                let result = await outcome { () async throws(GridError) in
                    try await client.call("slow", bytes("queued"), timeout: .seconds(30))
                }
                return (result, ContinuousClock.now - started)
            }
            try await waitUntil("the second call is queued") { broker.status.callsInFlight == 2 }
            broker.refuseNewWork()
            let stop = Task { await worker.stop() }
            let (result, took) = await queued.value
            guard case .failure(.shuttingDown) = result else {
                Issue.record("expected shuttingDown, got \(result)")
                return
            }
            #expect(took < .seconds(10), "the queued call waited \(took)")
            #expect(try await running.value == bytes("running"), "the running call finished on the leaving worker")
            await stop.value
            await client.close()
        }
    }
}
