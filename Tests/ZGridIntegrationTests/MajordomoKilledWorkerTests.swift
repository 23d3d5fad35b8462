import Foundation
import Testing
import ZGridBroker
import ZGridClient

extension IntegrationTests.MajordomoTests {
    /// The deadline of the calls below: far longer than the loss of a worker takes to notice (one
    /// heartbeat interval of 200 ms), so a call still running at it was held by a dead worker.
    static let killedWorkerCallTimeout: Duration = .seconds(30)

    /// Starts a call of `nap` in a task and waits until the broker has dispatched it to the one
    /// registered worker.
    static func dispatchedCall(
        _ broker: BrokerServer, _ client: GridClient, idempotent: Bool
    ) async throws -> Task<Result<[UInt8], GridError>, Never> {
        let call = Task {
            await outcome { () async throws(GridError) -> [UInt8] in
                try await client.call("nap", bytes("zzz"), timeout: killedWorkerCallTimeout, idempotent: idempotent)
            }
        }
        try await waitUntil("the call was dispatched") { broker.status.callsInFlight == 1 }
        return call
    }

    @Test("an MDP worker killed while it runs a call is lost at once: its call fails workerLost, its slot is gone")
    func killedBusyMdpWorkerIsLost() async throws {
        try await PythonPeers.requirePyzmq()
        let broker = try startBroker()
        defer { broker.stop() }
        let process = try await Self.launchQuietNapWorker(broker, busyMilliseconds: 600_000)
        defer { endProcess(process) }
        let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
        let call = try await Self.dispatchedCall(broker, client, idempotent: false)
        try await Task.sleep(for: .milliseconds(200))  // lets the worker read its REQUEST
        endProcess(process)  // SIGKILL: no DISCONNECT
        switch await call.value {
        case .failure(.workerLost(let message)):
            #expect(message.contains("nap"), "\(message)")
        case let other:
            Issue.record("expected workerLost well before the deadline, got \(other)")
        }
        let status = try await settledStatus(broker)
        #expect(status.statistics.workersLost == 1)
        #expect(status.workers == 0)
        #expect(status.functions["nap"] == nil)
        #expect(status.callsInFlight == 0)
        await client.close()
    }

    @Test("an idempotent call on an MDP worker killed while it runs is re-sent once to another worker")
    func killedBusyMdpWorkerRetriesIdempotentCall() async throws {
        try await PythonPeers.requirePyzmq()
        let broker = try startBroker()
        defer { broker.stop() }
        let endpoint = broker.endpoints[0]
        let doomed = try await Self.launchQuietNapWorker(broker, busyMilliseconds: 600_000)
        defer { endProcess(doomed) }
        let client = try GridClient(broker: endpoint, heartbeat: testHeartbeat)
        let call = try await Self.dispatchedCall(broker, client, idempotent: true)
        let spare = try PythonPeers.launchWorker(
            endpoint, "nap", heartbeatMilliseconds: testHeartbeat.intervalMilliseconds, liveness: testHeartbeat.liveness)
        defer { endProcess(spare) }
        try await waitUntil("the spare MDP worker registered") { broker.status.functions["nap"] == 2 }
        endProcess(doomed)
        #expect(try await call.value.get() == bytes("ZZZ"))
        let status = try await settledStatus(broker)
        #expect(status.statistics.workersLost == 1)
        #expect(status.statistics.callsRetried == 1)
        #expect(status.workers == 1)
        await client.close()
    }
}
