import Foundation
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZGridWorker
import ZeroMQ

extension IntegrationTests.BrokerRestartClientTests {
    @Test("idempotent calls in flight across a broker SIGKILL and restart, plain and in a callEach run, are sent again and answered")
    func idempotentCallsAcrossKill() async throws {
        let endpoint = "tcp://127.0.0.1:\(try freePort())"
        let arguments = ["broker", "--bind", endpoint, "--log-level", "error"]
        var broker = try launchZGrid(arguments)
        defer { endProcess(broker) }
        let started = Counter()
        // Room for the first attempts, still running when the restarted broker sends the calls again.
        let worker = Worker(broker: endpoint, concurrency: 16, heartbeat: HeartbeatSettings(), logger: quietLogger("test.worker"))
        worker.register("slow") { request in
            started.increment()
            try await Task.sleep(for: .milliseconds(1500))
            return request.payload
        }
        let workerTask = Task { try await worker.run() }
        let client = try GridClient(broker: endpoint)
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
}
