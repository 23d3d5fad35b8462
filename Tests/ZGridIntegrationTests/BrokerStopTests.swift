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

        @Test("a stop while submits are in flight leaves no job stored without its ACCEPTED")
        func stopAcknowledgesStoredSubmits() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let path = directory.path + "/jobs.sqlite"
            let broker = try startBroker(jobStore: path)
            let client = try GridClient(broker: broker.endpoints[0])
            let accepted = IDCollector()
            // Many at once, so that some wait for their commit when the stop comes.
            let submitters = (0..<256).map { _ in
                Task { () async -> GridError? in
                    while true {
                        do throws(GridError) {
                            accepted.insert(try await client.submit("nobody-serves-this", bytes("job")))
                        } catch { return error }
                    }
                }
            }
            try await waitUntil("a thousand jobs are accepted") { accepted.count >= 1000 }
            await onThread { broker.stop() }
            // A submit sent after the broker read its last messages fails when the connection drops
            // (it may or may not have taken effect: the store below says it did not), or waits for a
            // broker to come back, which closing the client ends.
            try await Task.sleep(for: .milliseconds(300))
            await client.close()
            for submitter in submitters {
                let error = await submitter.value
                switch error {
                case .shuttingDown?, .closed?, .brokerUnreachable?: break
                default: Issue.record("expected a submitter to end refused, cut off or closed, got \(String(describing: error))")
                }
            }

            let restarted = try startBroker(jobStore: path)
            let reader = try GridClient(broker: restarted.endpoints[0])
            let stored = Set(try await reader.jobs(JobQuery(limit: 10_000)).map(\.id))
            let acknowledged = accepted.all
            #expect(stored == acknowledged, "\(stored.subtracting(acknowledged).count) jobs stored without an ACCEPTED")
            await reader.close()
            await onThread { restarted.stop() }
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
