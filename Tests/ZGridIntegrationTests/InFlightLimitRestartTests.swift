import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZeroMQ

extension IntegrationTests.BrokerRestartClientTests {
    /// A client of `endpoint` with room for one call in flight, that retries no BUSY, and with a
    /// long expiry (5 s): a broker that comes back is surely in time for the requests it holds.
    func clientWithRoomForOne(of endpoint: String) throws -> GridClient {
        try GridClient(
            broker: endpoint, heartbeat: HeartbeatSettings(intervalMilliseconds: 1000, liveness: 5), busyRetries: 0, inFlightLimit: 1)
    }

    @Test("calls waiting for room when the connection drops go to the broker that comes back, as requests made after the drop")
    func waitingForRoomAcrossRestart() async throws {
        let context = try Context()
        var router: Socket? = try Socket(context, type: .router)
        try router!.bind("tcp://127.0.0.1:0")
        let endpoint = try router!.lastEndpoint()
        let client = try clientWithRoomForOne(of: endpoint)
        let first = Task { await outcome { () async throws(GridError) in try await client.call("echo", [0], timeout: .seconds(20)) } }
        #expect(try await awaitCall(on: router!, seconds: 5))
        // Room for one call only: these wait in the client, in line.
        let waiting = (1...4).map { index in
            Task { await outcome { () async throws(GridError) in try await client.call("echo", [UInt8(index)], timeout: .seconds(20)) } }
        }
        try await Task.sleep(for: .milliseconds(200))
        #expect(try !(await awaitCall(on: router!, seconds: 0.3)), "a call past the limit was sent")
        router = nil
        let dropped = await first.value
        guard case .failure(.brokerUnreachable(let message)) = dropped else {
            Issue.record("expected the call sent to fail as unreachable, got \(dropped)")
            return
        }
        #expect(message.contains("dropped before the answer came"), "\(message)")

        let broker = try await restartBroker(endpoint: endpoint, graceMilliseconds: 10_000)
        defer { broker.stop() }
        let worker = try await startWorker(broker) { worker in worker.register("echo") { $0.payload } }
        for (index, call) in waiting.enumerated() {
            let result = await call.value
            #expect(result == .success([UInt8(index + 1)]), "call \(index + 1): \(result)")
        }
        let statistics = try await settledStatus(broker).statistics
        #expect(statistics.callsReceived == 4 && statistics.admissionRefusals == 0)
        await client.close()
        await worker.stop()
    }

    @Test("an idempotent call sent again after a restart keeps its room; a scatter and calls waiting behind it follow")
    func resentCallAndWaitingScatterAcrossRestart() async throws {
        let context = try Context()
        var router: Socket? = try Socket(context, type: .router)
        try router!.bind("tcp://127.0.0.1:0")
        let endpoint = try router!.lastEndpoint()
        let client = try clientWithRoomForOne(of: endpoint)
        let first = Task {
            await outcome { () async throws(GridError) in try await client.call("echo", [0], timeout: .seconds(20), idempotent: true) }
        }
        #expect(try await awaitCall(on: router!, seconds: 5))
        let scatter = Task { await (try? client.scatter("echo", inputs: [[7], [8]], timeout: .seconds(20)))?.gathered() }
        try await Task.sleep(for: .milliseconds(100))
        let waiting = (1...3).map { index in
            Task { await outcome { () async throws(GridError) in try await client.call("echo", [UInt8(index)], timeout: .seconds(20)) } }
        }
        try await Task.sleep(for: .milliseconds(100))
        router = nil
        let broker = try await restartBroker(endpoint: endpoint, graceMilliseconds: 10_000)
        defer { broker.stop() }
        let worker = try await startWorker(broker) { worker in worker.register("echo") { $0.payload } }
        #expect(await first.value == .success([0]))
        let gathered = await scatter.value
        #expect(gathered?.replies == [0: [7], 1: [8]], "\(String(describing: gathered))")
        for (index, call) in waiting.enumerated() { #expect(await call.value == .success([UInt8(index + 1)])) }
        let statistics = try await settledStatus(broker).statistics
        #expect(statistics.callsReceived == 4 && statistics.scattersReceived == 1 && statistics.admissionRefusals == 0)
        await client.close()
        await worker.stop()
    }
}
