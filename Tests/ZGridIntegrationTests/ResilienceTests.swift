import Foundation
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZGridWorker
import ZeroMQ

extension IntegrationTests {
    @Suite("Workers dying, broker restarts and graceful stops", .serialized, .timeLimit(.minutes(3)))
    struct ResilienceTests {
        /// A raw DEALER peer registers as a worker of `function`, takes one request, then vanishes.
        /// Returns the header of the request it took.
        private func vanishingWorker(_ endpoint: String, function: String) async -> CallHeader? {
            await onThread {
                guard let context = try? Context(), let socket = try? Socket(context, type: .dealer) else { return nil }
                do {
                    try socket.connect(endpoint)
                    try socket.send(
                        frames: [ProtocolTag.worker, [WorkerCommand.ready.rawValue], .bigEndian(UInt32(4)), bytes(function)], blocking: true
                    )
                    var poller = Poller([socket.pollItem()])
                    let deadline = Date().addingTimeInterval(10)
                    while Date() < deadline {
                        try socket.send(frames: [ProtocolTag.worker, [WorkerCommand.heartbeat.rawValue]])
                        try poller.poll(timeoutMilliseconds: 100)
                        guard poller.isReadable(0), let frames = try socket.receiveFrames(blocking: false) else { continue }
                        if frames.count >= 5, frames[1] == [WorkerCommand.request.rawValue] {
                            return frames[4].withUnsafeBytes { CallHeader(decoding: $0) }
                        }
                    }
                } catch {}
                return nil
            }
        }

        @Test("a worker that dies mid-call fails the call with workerLost")
        func workerLostMidCall() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            async let taken = vanishingWorker(broker.endpoints[0], function: "fragile")
            try await waitUntil("fake worker registered") { broker.status.workers == 1 }
            let started = Date()
            let outcome: Result<[UInt8], GridError>
            do { outcome = .success(try await client.call("fragile", bytes("x"), timeout: .seconds(5))) } catch {
                outcome = .failure(error)
            }
            #expect(await taken != nil)
            guard case .failure(.workerLost) = outcome else {
                Issue.record("expected workerLost, got \(outcome)")
                return
            }
            #expect(Date().timeIntervalSince(started) < 4, "loss should be detected within a few heartbeats")
            #expect(try await settledCount(broker, \.workersLost, reaching: 1) == 1)
            await client.close()
        }

        @Test("an idempotent call whose worker dies is retried once on another worker")
        func idempotentRetry() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            async let taken = vanishingWorker(broker.endpoints[0], function: "resize")
            try await waitUntil("fake worker registered") { broker.status.workers == 1 }
            let call = Task { try await client.call("resize", bytes("photo"), timeout: .seconds(8), idempotent: true) }
            let firstHeader = await taken
            #expect(firstHeader?.attempt == 1)
            #expect(firstHeader?.isIdempotent == true)
            let attempts = Counter()
            let worker = try await startWorker(broker) { worker in
                worker.register("resize") { request in
                    attempts.increment()
                    return bytes("resized \(String(decoding: request.payload, as: UTF8.self)) on attempt \(request.attempt)")
                }
            }
            #expect(try await call.value == bytes("resized photo on attempt 2"))
            #expect(attempts.count == 1)
            #expect(try await settledCount(broker, \.callsRetried, reaching: 1) == 1)
            await client.close()
            await worker.stop()
        }

        @Test("a worker process killed with SIGKILL mid-call gives workerLost, and the grid keeps serving")
        func killedWorkerProcess() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let process = try launchZGrid(["worker", "--connect", broker.endpoints[0], "--function", "sleep", "--log-level", "error"])
            defer { endProcess(process) }
            try await waitUntil("worker process registered") { broker.status.workers == 1 }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let call = Task { try await client.call("sleep", bytes("5000"), timeout: .seconds(8)) }
            try await waitUntil("call running") { broker.status.callsInFlight == 1 }
            try await Task.sleep(for: .milliseconds(100))
            kill(process.processIdentifier, SIGKILL)
            let result = await call.result
            guard case .failure(let error) = result, case .workerLost = error as? GridError else {
                Issue.record("expected workerLost, got \(result)")
                return
            }
            let replacement = try await startWorker(broker) { $0.register("sleep") { _ in bytes("ok") } }
            #expect(try await client.call("sleep", bytes("1")) == bytes("ok"))
            await client.close()
            await replacement.stop()
        }

        @Test("after a broker restart, workers register again and calls work")
        func brokerRestart() async throws {
            var broker = try startBroker()
            let endpoint = broker.endpoints[0]
            let worker = try await startWorker(broker) { $0.register("echo") { $0.payload } }
            let client = try GridClient(broker: endpoint, heartbeat: testHeartbeat)
            #expect(try await client.call("echo", bytes("before")) == bytes("before"))
            broker.stop()
            try await Task.sleep(for: .milliseconds(200))
            broker = try startBroker(endpoint: endpoint)
            defer { broker.stop() }
            try await waitUntil("worker registered with the new broker") { broker.status.workers == 1 }
            #expect(try await client.call("echo", bytes("after"), timeout: .seconds(5)) == bytes("after"))
            await client.close()
            await worker.stop()
        }

        @Test("a graceful worker stop lets in-flight calls finish and takes no new work")
        func gracefulStop() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let started = Counter()
            let worker = try await startWorker(broker) { worker in
                worker.register("job") { _ in
                    started.increment()
                    try await Task.sleep(for: .milliseconds(300))
                    return bytes("done")
                }
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let calls = (0..<3).map { _ in Task { try await client.call("job", timeout: .seconds(5)) } }
            try await waitUntil("calls running") { started.count == 3 }
            worker.worker.stop()
            for call in calls { #expect(try await call.value == bytes("done")) }
            _ = await worker.task.result
            try await waitUntil("worker removed") { broker.status.workers == 0 }
            await client.close()
        }

        @Test("a stopping worker whose broker falls silent stops, instead of registering again")
        func stoppingWorkerDoesNotRegisterAgain() async throws {
            let raw = try RawBroker()
            // Silence is noticed 900 to 1200 ms after the broker was last heard (3 intervals, checked
            // once per interval). Stopped at 750 ms, the worker waits until 1350 ms for the
            // acknowledgement of its DISCONNECT, so it notices the silence while stopping.
            let heartbeat = HeartbeatSettings(intervalMilliseconds: 300, liveness: 3)
            let worker = Worker(
                broker: raw.endpoint, concurrency: 2, heartbeat: heartbeat, drainTimeoutMilliseconds: 5_000,
                logger: quietLogger("test.worker"))
            worker.register("echo") { $0.payload }
            let task = Task { try await worker.run() }
            let ready = try #require(await raw.next())
            #expect(ready.count >= 2 && ready[1] == [WorkerCommand.ready.rawValue])
            await raw.send([[WorkerCommand.heartbeat.rawValue]])  // registered, then silence
            try await Task.sleep(for: .milliseconds(750))
            worker.stop()
            let messages = await raw.silentlyCollect(seconds: 1.5)
            let commands = messages.compactMap { $0.count >= 2 && $0[1].count == 1 ? WorkerCommand(rawValue: $0[1][0]) : nil }
            #expect(commands.first == .disconnect, "the stop's DISCONNECT: \(commands)")
            #expect(!commands.contains(.ready), "the stopping worker registered again: \(commands)")
            _ = await task.result
        }

        @Test("a worker stopped gracefully under load answers every request the broker sent it, in transit ones too")
        func gracefulStopUnderLoad() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let stays = try await startWorker(broker, concurrency: 64) { $0.registerInline("echo") { $0.payload } }
            for round in 0..<3 {
                let leaves = try await startWorker(broker, concurrency: 64) { $0.registerInline("echo") { $0.payload } }
                let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
                let inputs = (0..<40_000).map { bytes("round-\(round)-\($0)") }
                let results = try client.callEach("echo", inputs, inFlight: 128)
                let run = Task { try await results.inInputOrder() }
                try await waitUntil("calls flowing") { broker.status.statistics.callsSucceeded > round * 40_000 + 2000 }
                leaves.worker.stop()
                _ = await leaves.task.result
                let outcomes = try await run.value
                let failures = outcomes.enumerated().compactMap { index, outcome -> String? in
                    guard case .failure(let error) = outcome else { return nil }
                    return "\(index): \(error)"
                }
                #expect(failures.isEmpty, "round \(round): \(failures.count) calls failed, first \(failures.prefix(3))")
                await client.close()
            }
            await stays.stop()
        }

        /// Registers `hang` on `worker`: a call counts in `started`, then waits at `gate` (ignoring cancellation).
        private func registerHang(on worker: Worker, started: Counter, gate: Gate) {
            worker.register("hang") { _ in
                started.increment()
                await gate.wait()
                return bytes("too late")
            }
        }

        @Test("a second stop forces a stopping worker out: handlers that never finish are given up and their calls fail as shutting down")
        func forcedStop() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let started = Counter()
            let gate = Gate()
            defer { gate.open() }
            let worker = try await startWorker(broker, concurrency: 2) { registerHang(on: $0, started: started, gate: gate) }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let answered = Counter()
            let calls = (0..<2).map { _ in
                Task {
                    defer { answered.increment() }
                    return await outcome { () async throws(GridError) in try await client.call("hang", timeout: .seconds(30)) }
                }
            }
            try await waitUntil("calls running") { started.count == 2 }
            worker.worker.stop()
            try await Task.sleep(for: .milliseconds(400))
            #expect(answered.count == 0, "a graceful stop waits for the running handlers")
            let forcedAt = ContinuousClock.now
            worker.worker.stop(force: true)
            _ = await worker.task.result
            let took = ContinuousClock.now - forcedAt
            #expect(took < .milliseconds(500), "the forced stop took \(took)")
            await expectForcedOut(calls)
            #expect(ContinuousClock.now - forcedAt < .seconds(2), "the callers were answered late")
            await client.close()
        }

        @Test("a graceful worker stop forces its handlers out at the drain timeout: their calls fail as shutting down at once")
        func drainTimeoutForcesOut() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let started = Counter()
            let gate = Gate()
            defer { gate.open() }
            let worker = try await startWorker(broker, concurrency: 2, drainTimeoutMilliseconds: 300) {
                registerHang(on: $0, started: started, gate: gate)
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let calls = (0..<2).map { _ in
                Task { await outcome { () async throws(GridError) in try await client.call("hang", timeout: .seconds(30)) } }
            }
            try await waitUntil("calls running") { started.count == 2 }
            let stoppedAt = ContinuousClock.now
            worker.worker.stop()
            _ = await worker.task.result
            let took = ContinuousClock.now - stoppedAt
            #expect(took >= .milliseconds(300) && took < .milliseconds(1500), "the stop took \(took)")
            await expectForcedOut(calls)
            await client.close()
        }

        @Test("a forced stop answers shutting down the requests a blocking io-thread handler kept the worker from reading")
        func forcedStopAnswersUnreadRequests() async throws {
            // A liveness window of 5 s: an answer within it can only come from the worker.
            let heartbeat = HeartbeatSettings(intervalMilliseconds: 1000, liveness: 5)
            let broker = try startBroker(heartbeat: heartbeat)
            defer { broker.stop() }
            let started = Counter()
            let worker = try await startWorker(broker, concurrency: 4, heartbeat: heartbeat) { worker in
                worker.register("block", execution: .ioThread) { _ in
                    started.increment()
                    usleep(1_000_000)  // holds the worker's I/O thread: it reads nothing meanwhile
                    return bytes("done")
                }
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: heartbeat)
            let call = { @Sendable in
                Task { await outcome { () async throws(GridError) in try await client.call("block", timeout: .seconds(30)) } }
            }
            var calls = [call()]
            try await waitUntil("the first call runs") { started.count == 1 }
            calls += (0..<3).map { _ in call() }
            try await waitUntil("the broker took every call") { broker.status.statistics.callsReceived == 4 }
            try await Task.sleep(for: .milliseconds(100))  // and sent them to the worker, which has credit for 4
            let forcedAt = ContinuousClock.now
            worker.worker.stop(force: true)
            _ = await worker.task.result
            await expectForcedOut(calls)
            #expect(started.count == 1, "only the first call ran")
            let took = ContinuousClock.now - forcedAt
            #expect(took < .milliseconds(2500), "the callers were answered \(took) after the forced stop")
            await client.close()
        }
    }
}

/// Starts the `zgrid` executable built next to the test bundle; its standard output goes to
/// `standardOutput` when given.
/// Starts the zgrid executable built next to the tests with `arguments`; with `through`, that
/// program starts it instead (for example `nohup`, which execs it with SIGHUP ignored); with
/// `workingDirectory`, it runs there (where a core dump lands); with `executable`, that copy of
/// zgrid runs instead.
func launchZGrid(
    _ arguments: [String], standardOutput: FileHandle? = nil, standardError: FileHandle? = nil, through launcher: String? = nil,
    workingDirectory: String? = nil, executable copy: String? = nil
) throws -> Process {
    let executable = try copy.map { URL(fileURLWithPath: $0) } ?? zgridExecutable()
    let process = Process()
    if let launcher {
        process.executableURL = URL(fileURLWithPath: launcher)
        process.arguments = [executable.path] + arguments
    } else {
        process.executableURL = executable
        process.arguments = arguments
    }
    // Not the test's own output pipes: a grandchild left behind by a failed test must not keep
    // the test runner waiting for end of file.
    process.standardOutput = standardOutput ?? FileHandle.nullDevice
    process.standardError = standardError ?? FileHandle.nullDevice
    if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
    try process.run()
    return process
}

/// The zgrid executable built next to the test bundle.
func zgridExecutable() throws -> URL {
    let directory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    let executable = directory.appendingPathComponent("zgrid")
    guard FileManager.default.isExecutableFile(atPath: executable.path) else {
        throw LaunchError(message: "no zgrid executable at \(executable.path): build it with `swift build` first")
    }
    return executable
}

/// The zgrid executable could not be started.
struct LaunchError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
