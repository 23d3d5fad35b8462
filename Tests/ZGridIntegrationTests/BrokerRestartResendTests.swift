import Foundation
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZGridWorker
import ZeroMQ

extension IntegrationTests.BrokerRestartClientTests {
    @Test(
        "idempotent calls in flight across a broker SIGKILL and a restart 2 s later, plain and in a callEach run, are sent again and answered"
    )
    func idempotentCallsAcrossKill() async throws {
        let endpoint = "tcp://127.0.0.1:\(try freePort())"
        let arguments = ["broker", "--bind", endpoint, "--log-level", "error"]
        var broker = try launchZGrid(arguments)
        defer { endProcess(broker) }
        let started = Counter()
        // Room for the first attempts, still running when the restarted broker sends the calls again.
        let (worker, workerTask) = slowWorker(endpoint, concurrency: 16, duration: .milliseconds(1500), runs: started)
        // A 6 s expiry: the kept calls wait that long for the new connection, counted from the drop,
        // which leaves room for a restarted broker slow to start on a loaded machine.
        let client = try GridClient(broker: endpoint, heartbeat: HeartbeatSettings(intervalMilliseconds: 1000, liveness: 6))
        let single = Task {
            await within(seconds: 30) { () async throws(GridError) -> [UInt8] in
                try await client.call("slow", bytes("one"), timeout: .seconds(20), idempotent: true)
            }
        }
        let inputs = (0..<4).map { bytes("item \($0)") }
        let run = Task { try await client.callEach("slow", inputs, inFlight: 4, timeout: .seconds(20), idempotent: true).inInputOrder() }
        try await waitUntil("the calls run") { started.count == 5 }
        kill(broker.processIdentifier, SIGKILL)
        broker.waitUntilExit()
        // Down for 2 s of the client's 6 s expiry: it must reconnect, and send the calls again, in time.
        try await Task.sleep(for: .seconds(2))
        broker = try launchZGrid(arguments)
        #expect(await single.value == .success(bytes("one")))
        #expect(try await run.value == inputs.map { .success($0) })
        #expect(started.count == 10, "each call ran again, sent by the client to the restarted broker")
        await client.close()
        worker.stop()
        _ = await workerTask.result
        kill(broker.processIdentifier, SIGTERM)
        broker.waitUntilExit()
    }

    @Test("a job WAIT in flight across a broker outage is sent again when the client reconnects, with the time it has left then")
    func jobWaitEndsOnTimeAcrossOutage() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = directory.file("jobs.sqlite")
        var broker = try startBroker(jobStore: store)
        let endpoint = broker.endpoints[0]
        // Slow to notice silence (10 s): only the dropped connection tells the client of the outage.
        let client = try GridClient(broker: endpoint, heartbeat: HeartbeatSettings(intervalMilliseconds: 1000, liveness: 10))
        let id = try await client.submit("echo", bytes("never"), options: JobOptions(delay: .seconds(600)))
        let started = ContinuousClock.now
        let waiting = Task {
            await within(seconds: 20) { () async throws(GridError) in try await client.result(job: id, timeout: .seconds(3)) }
        }
        try await Task.sleep(for: .milliseconds(300))
        broker.stop()
        // Longer than the first reconnect attempts: the client reconnects some time after the broker is back.
        try await Task.sleep(for: .seconds(2))
        broker = try await restartBroker(endpoint: endpoint, jobStore: store)
        defer { broker.stop() }
        let result = await waiting.value
        guard case .failure(.timeout) = result else {
            Issue.record("expected the wait to end with the job unfinished, got \(result)")
            return
        }
        // Sent again at the drop, the wait restarted with what was left then once the reconnect
        // delivered it: it ended past 5 s. Sent again at the reconnect, it ends at about 3 s, or at
        // the reconnect when that comes later.
        #expect(ContinuousClock.now - started < .milliseconds(4800))
        await client.close()
    }

    @Test(
        "while the connection stays down, a kept job WAIT ends as a timeout when its wait is over, and a kept idempotent call as unreachable after the expiry"
    )
    func keptRequestsEndWhileDown() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let endpoint = "tcp://127.0.0.1:\(try freePort())"
        let broker = try launchZGrid(["broker", "--bind", endpoint, "--job-store", directory.file("jobs.sqlite"), "--log-level", "error"])
        defer { endProcess(broker) }
        let running = Counter()
        let (worker, workerTask) = slowWorker(endpoint, concurrency: 4, duration: .seconds(10), runs: running)
        // The default heartbeat: a 3 s expiry.
        let client = try GridClient(broker: endpoint)
        let id = try await client.submit("slow", bytes("later"), options: JobOptions(delay: .seconds(600)))
        let calling = Task {
            await within(seconds: 30) { () async throws(GridError) -> [UInt8] in
                try await client.call("slow", bytes("x"), timeout: .seconds(20), idempotent: true)
            }
        }
        try await waitUntil("the call runs") { running.count == 1 }
        let waitStarted = ContinuousClock.now
        let waiting = Task {
            await within(seconds: 30) { () async throws(GridError) in try await client.result(job: id, timeout: .milliseconds(1500)) }
        }
        try await Task.sleep(for: .milliseconds(300))
        kill(broker.processIdentifier, SIGKILL)
        broker.waitUntilExit()
        let killed = ContinuousClock.now
        let waited = await waiting.value
        guard case .failure(.timeout(let message)) = waited else {
            Issue.record("expected the wait to end as a timeout, got \(waited)")
            return
        }
        #expect(message.contains("connection"), "\(message)")
        #expect(ContinuousClock.now - waitStarted < .milliseconds(2500), "ended when its wait was over, not 5 s later")
        let called = await calling.value
        guard case .failure(.brokerUnreachable(let reason)) = called else {
            Issue.record("expected the call to fail as unreachable, got \(called)")
            return
        }
        #expect(reason.contains("not back"), "\(reason)")
        let elapsed = ContinuousClock.now - killed
        #expect(elapsed > .milliseconds(2500) && elapsed < .seconds(6), "failed after the expiry counted from the drop: \(elapsed)")
        await client.close()
        worker.stop(force: true)
        _ = await workerTask.result
    }
}
