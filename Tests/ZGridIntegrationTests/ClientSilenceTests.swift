import Foundation
import Testing
import ZGridClient
import ZGridProtocol
import ZGridWorker
import ZeroMQ

extension IntegrationTests.BrokerRestartClientTests {
    @Test("an idempotent call sent again after a hung broker was killed is not failed by that broker's silence")
    func resentCallOutlivesEarlierSilence() async throws {
        let endpoint = "tcp://127.0.0.1:\(try freePort())"
        let broker = try launchZGrid(["broker", "--bind", endpoint, "--log-level", "error"])
        defer { endProcess(broker) }
        let running = Counter()
        let (worker, workerTask) = slowWorker(endpoint, concurrency: 2, duration: .seconds(30), runs: running)
        // The default heartbeat: a HEARTBEAT a second, a 3 s expiry.
        let client = try GridClient(broker: endpoint)
        let calling = Task {
            await within(seconds: 30) { () async throws(GridError) -> [UInt8] in
                try await client.call("slow", bytes("x"), timeout: .seconds(9), idempotent: true)
            }
        }
        try await waitUntil("the call runs") { running.count == 1 }
        // A HEARTBEAT answered after the CALL was sent: the broker was last heard after it.
        try await Task.sleep(for: .milliseconds(1300))
        kill(broker.processIdentifier, SIGSTOP)
        try await Task.sleep(for: .seconds(1))
        kill(broker.processIdentifier, SIGKILL)
        broker.waitUntilExit()
        // A peer that completes the handshake and takes the call sent again, but never answers.
        let context = try Context()
        let router = try Socket(context, type: .router)
        try router.bind(endpoint)
        #expect(try await awaitCall(on: router, seconds: 5), "the call was sent again")
        let result = await calling.value
        guard case .failure(.timeout) = result else {
            Issue.record("expected the call sent again to wait for its own deadline, got \(result)")
            return
        }
        await client.close()
        worker.stop(force: true)
        _ = await workerTask.result
    }

    @Test("calls to a broker never heard fail together as unreachable after the expiry, whenever each was sent")
    func neverHeardBrokerFailsEveryCall() async throws {
        let endpoint = "tcp://127.0.0.1:\(try freePort())"
        // Slow heartbeat ticks (1 s) and a 3 s expiry; calls with a longer limit.
        let client = try GridClient(broker: endpoint)
        let started = ContinuousClock.now
        var calls: [Task<Result<[UInt8], GridError>, Never>] = []
        for index in 0..<5 {
            calls.append(
                Task {
                    await within(seconds: 30) { () async throws(GridError) -> [UInt8] in
                        try await client.call("echo", bytes("\(index)"), timeout: .seconds(12))
                    }
                })
            try await Task.sleep(for: .milliseconds(300))
        }
        for call in calls {
            let result = await call.value
            guard case .failure(.brokerUnreachable(let message)) = result else {
                Issue.record("expected broker unreachable, got \(result)")
                continue
            }
            // No broker took it (still queued in the socket, it would reach a broker that starts later).
            #expect(message.contains("no broker answered at \(endpoint)"), "\(message)")
            #expect(message.contains("may still reach one that starts there"), "\(message)")
            #expect(!message.contains("may or may not have taken effect"), "\(message)")
        }
        #expect(ContinuousClock.now - started < .seconds(6), "failed at the expiry, not at the calls' 12 s limit")
        await client.close()
    }

    @Test("zgrid call takes its heartbeat from the config file: a 1 s expiry fails a call to an absent broker within about 1 s")
    func cliClientUsesConfiguredHeartbeat() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let config = directory.file("cluster.conf")
        let endpoint = "tcp://127.0.0.1:\(try freePort())"
        try "[broker]\nconnect = \"\(endpoint)\"\nheartbeat_ms = 500\nliveness = 2\n".write(
            toFile: config, atomically: false, encoding: .utf8)
        let log = directory.file("call.log")
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let started = ContinuousClock.now
        let process = try launchZGrid(
            ["call", "echo", "hi", "--config", config, "--timeout-ms", "10000"], standardError: FileHandle(forWritingAtPath: log))
        defer { endProcess(process) }
        #expect(try await waitForExit(process, seconds: 15))
        let text = readText(log) ?? ""
        #expect(text.contains("unreachable"), "\(text)")
        // No broker was ever reached: the error says so, not that the call may have taken effect.
        #expect(text.contains("no broker answered at \(endpoint)"), "\(text)")
        #expect(!text.contains("may or may not"), "\(text)")
        // Heard from no broker for the configured 1,000 ms (checked every 500 ms), not the default 3,000 ms.
        #expect(ContinuousClock.now - started < .milliseconds(2500), "\(text)")
        #expect(process.terminationStatus == 2)
        // A command that does not report the error itself exits the same way.
        let statusLog = directory.file("status.log")
        _ = FileManager.default.createFile(atPath: statusLog, contents: nil)
        let status = try launchZGrid(["status", "--config", config], standardError: FileHandle(forWritingAtPath: statusLog))
        defer { endProcess(status) }
        #expect(try await waitForExit(status, seconds: 15))
        let statusText = readText(statusLog) ?? ""
        #expect(status.terminationStatus == 2, "\(statusText)")
        #expect(statusText.contains("no broker answered at \(endpoint)") && !statusText.contains("may or may not"), "\(statusText)")
    }

    @Test("after a reconnect the client learns the broker's limits at once: a large call is not held until its next heartbeat")
    func largeCallRightAfterReconnect() async throws {
        var broker = try startBroker()
        let endpoint = broker.endpoints[0]
        let worker = try await startWorker(broker) { $0.register("echo") { $0.payload } }
        // Heartbeats 5 s apart (25 s expiry): a call held for the broker's limits would wait seconds.
        let client = try GridClient(broker: endpoint, heartbeat: HeartbeatSettings(intervalMilliseconds: 5000, liveness: 5))
        _ = try await client.call("echo", bytes("first"))
        broker.stop()
        broker = try await restartBroker(endpoint: endpoint)
        defer { broker.stop() }
        try await waitUntil("the worker is back") { broker.status.workers == 1 }
        // The client reconnects within half a second; then a payload over the size always accepted.
        try await Task.sleep(for: .milliseconds(700))
        let payload = [UInt8](repeating: 7, count: 4096)
        let started = ContinuousClock.now
        #expect(try await client.call("echo", payload, timeout: .seconds(20)) == payload)
        #expect(ContinuousClock.now - started < .seconds(2), "sent once the reconnect's HEARTBEAT was answered")
        await client.close()
        await worker.stop()
    }
}

extension IntegrationTests.BrokerRestartClientTests {
    @Test("requests made while the connection is down are held, not queued: they fail as not sent after the expiry, or go out on reconnect")
    func requestsMadeWhileDownAreHeld() async throws {
        let endpoint = "tcp://127.0.0.1:\(try freePort())"
        var broker = try launchZGrid(["broker", "--bind", endpoint, "--log-level", "error"])
        defer { endProcess(broker) }
        // A 1 s expiry: the submit below fails within about a second of the drop, not at its 30 s
        // limit. The other client's 5 s expiry leaves room for the restarted broker process to
        // start, and the client to reconnect (up to 500 ms after it listens), on a loaded machine.
        let soon = try GridClient(broker: endpoint, heartbeat: HeartbeatSettings(intervalMilliseconds: 500, liveness: 2))
        let patient = try GridClient(broker: endpoint, heartbeat: HeartbeatSettings(intervalMilliseconds: 500, liveness: 10))
        // A call of each client runs on a worker when the broker is killed: its failure shows that
        // client noticed the drop, so what it is asked next is made while the connection is down.
        for client in [soon, patient] { _ = try await answeredStatus(client) }  // the broker process listens
        let runs = Counter()
        let (worker, workerTask) = slowWorker(endpoint, concurrency: 2, duration: .seconds(60), runs: runs)
        defer { worker.stop(force: true) }
        let running = [soon, patient].map { client in
            Task { await within(seconds: 60) { () async throws(GridError) in try await client.call("slow", timeout: .seconds(50)) } }
        }
        try await waitUntil("both calls run", seconds: 30) { runs.count == 2 }
        kill(broker.processIdentifier, SIGKILL)
        broker.waitUntilExit()
        for call in running {
            let result = await call.value
            guard case .failure(.brokerUnreachable(let message)) = result, message.contains("dropped before the answer came") else {
                Issue.record("expected the call in flight to fail at the drop, got \(result)")
                return
            }
        }
        let started = ContinuousClock.now
        let submitted = await within(seconds: 40) { () async throws(GridError) -> UInt64 in try await soon.submit("echo") }
        guard case .failure(.brokerUnreachable(let message)) = submitted else {
            Issue.record("expected broker unreachable, got \(submitted)")
            return
        }
        #expect(message.contains("the request was not sent"), "\(message)")
        #expect(ContinuousClock.now - started < .seconds(5), "failed at the expiry from the drop, not at the submit's limit")
        // Made while down, then the broker comes back within the expiry: the request goes out then.
        let status = Task { await within(seconds: 30) { () async throws(GridError) in try await patient.brokerStatus() } }
        try await Task.sleep(for: .milliseconds(200))
        broker = try launchZGrid(["broker", "--bind", endpoint, "--log-level", "error"])
        let result = await status.value
        guard case .success = result else {
            Issue.record("the status request made while the broker was down did not go out when it came back: \(result)")
            return
        }
        await soon.close()
        await patient.close()
        worker.stop(force: true)
        _ = await workerTask.result
    }
}
