import Foundation
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZGridWorker
import ZeroMQ

extension IntegrationTests {
    /// What a client's requests in flight become when its broker restarts on the same endpoint
    /// within the client's silence window (ZeroMQ reconnects, so the client hears no silence).
    @Suite("Client requests in flight across a broker restart", .serialized, .timeLimit(.minutes(2)))
    struct BrokerRestartClientTests {
        /// The outcome of `body`, or `cancelled` when it has none within `seconds`.
        func within<T: Sendable>(
            seconds: Double, _ body: @escaping @Sendable () async throws(GridError) -> T
        ) async -> Result<T, GridError> {
            let task = Task { await outcome(body) }
            let watchdog = Task {
                try await Task.sleep(for: .seconds(seconds))
                task.cancel()
            }
            defer { watchdog.cancel() }
            return await task.value
        }

        /// A worker of the broker at `endpoint` (with the default heartbeat, as the zgrid CLI's)
        /// serving `slow`, which counts each run in `runs` and answers its payload after `duration`,
        /// and `echo`; with the task running it.
        func slowWorker(
            _ endpoint: String, concurrency: Int, duration: Duration, runs: Counter
        ) -> (worker: Worker, task: Task<Void, any Error>) {
            let worker = Worker(
                broker: endpoint, concurrency: concurrency, heartbeat: HeartbeatSettings(), logger: quietLogger("test.worker"))
            worker.register("echo") { $0.payload }
            worker.register("slow") { request in
                runs.increment()
                try await Task.sleep(for: duration)
                return request.payload
            }
            return (worker, Task { try await worker.run() })
        }

        /// Receives from `router` until a message with one of `commands` (by default CALL or
        /// CALLS) arrives or `seconds` pass; whether one did.
        func awaitCall(
            on router: borrowing Socket, seconds: Double, commands: Set<ClientCommand> = [.call, .calls]
        ) async throws -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if let frames = try router.receiveFrames(blocking: false) {
                    if frames.count > 2, commands.contains(where: { frames[2] == [$0.rawValue] }) { return true }
                } else {
                    try await Task.sleep(for: .milliseconds(10))
                }
            }
            return false
        }

        @Test("a call whose broker drops the connection before it ever answered fails at once as unreachable")
        func dropBeforeAnyAnswer() async throws {
            let context = try Context()
            var router: Socket? = try Socket(context, type: .router)
            try router!.bind("tcp://127.0.0.1:0")
            let endpoint = try router!.lastEndpoint()
            // Slow to notice silence (10 s) and a long time limit: only the drop can end the call soon.
            let client = try GridClient(broker: endpoint, heartbeat: HeartbeatSettings(intervalMilliseconds: 1000, liveness: 10))
            let call = Task {
                await within(seconds: 20) { () async throws(GridError) -> [UInt8] in try await client.call("echo", timeout: .seconds(20)) }
            }
            // The CALL arrived: the connection is up and carried it. Then the "broker" goes away unanswering.
            #expect(try await awaitCall(on: router!, seconds: 5, commands: [.call]))
            let dropped = Date()
            router = nil
            let result = await call.value
            guard case .failure(.brokerUnreachable(let message)) = result else {
                Issue.record("expected broker unreachable, got \(result)")
                return
            }
            #expect(message.contains("dropped"), "\(message)")
            #expect(Date().timeIntervalSince(dropped) < 5)
            await client.close()
        }

        @Test("a job WAIT in flight across a broker stop and restart (same endpoint, same store) gets the job's result")
        func jobWaitAcrossRestart() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let store = directory.file("jobs.sqlite")
            var broker = try startBroker(jobStore: store)
            let endpoint = broker.endpoints[0]
            let worker = try await startWorker(broker) { $0.register("echo") { $0.payload } }
            let client = try GridClient(broker: endpoint, heartbeat: testHeartbeat)
            let id = try await client.submit("echo", bytes("later"), options: JobOptions(delay: .milliseconds(1500)))
            let started = ContinuousClock.now
            let waiting = Task {
                await within(seconds: 20) { () async throws(GridError) in try await client.result(job: id, timeout: .seconds(8)) }
            }
            try await Task.sleep(for: .milliseconds(300))
            broker.stop()
            broker = try await restartBroker(endpoint: endpoint, jobStore: store)
            defer { broker.stop() }
            #expect(await waiting.value == .success(bytes("later")))
            #expect(ContinuousClock.now - started < .seconds(8), "answered when the job finished, before the wait's limit")
            await client.close()
            await worker.stop()
        }

        @Test(
            "across a broker SIGKILL and restart, a submit's wait for the result is sent again and a plain call in flight fails at once as unreachable"
        )
        func submitWaitAndCallAcrossKill() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let endpoint = "tcp://127.0.0.1:\(try freePort())"
            let arguments = ["broker", "--bind", endpoint, "--job-store", directory.file("jobs.sqlite"), "--log-level", "error"]
            var broker = try launchZGrid(arguments)
            defer { endProcess(broker) }
            let running = Counter()
            let (worker, workerTask) = slowWorker(endpoint, concurrency: 4, duration: .seconds(4), runs: running)
            // The default heartbeat, as the zgrid CLI uses: a restart within 3 s is not a silence.
            let client = try GridClient(broker: endpoint)
            let id = try await client.submit("echo", bytes("done"), options: JobOptions(delay: .milliseconds(1500)))
            let waiting = Task {
                await within(seconds: 20) { () async throws(GridError) in try await client.result(job: id, timeout: .seconds(3600)) }
            }
            let calling = Task {
                await within(seconds: 20) { () async throws(GridError) in try await client.call("slow", bytes("x"), timeout: .seconds(30)) }
            }
            try await waitUntil("the call runs") { running.count == 1 }
            kill(broker.processIdentifier, SIGKILL)
            broker.waitUntilExit()
            let killed = ContinuousClock.now
            broker = try launchZGrid(arguments)
            let call = await calling.value
            guard case .failure(.brokerUnreachable) = call else {
                Issue.record("the call in flight at the kill ended \(call), not as broker unreachable")
                return
            }
            #expect(ContinuousClock.now - killed < .seconds(3), "the call failed when the connection dropped, not at its time limit")
            #expect(await waiting.value == .success(bytes("done")))
            await client.close()
            worker.stop()
            _ = await workerTask.result
            kill(broker.processIdentifier, SIGTERM)
            broker.waitUntilExit()
        }
    }
}
