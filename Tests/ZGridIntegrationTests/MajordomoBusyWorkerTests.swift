import Foundation
import Testing
import ZGridBroker
import ZGridClient

extension IntegrationTests.MajordomoTests {
    /// How long the Python worker works on each request, silent: longer than twice the broker's
    /// worker expiry (`testHeartbeat`, 800 ms).
    static let busyMilliseconds: Int64 = 2000

    /// Starts a Python MDP worker of `nap` with the test heartbeat that stays silent for
    /// `busyMilliseconds` on each request (as mdwrkapi does while busy), once registered.
    static func launchQuietNapWorker(_ broker: BrokerServer, busyMilliseconds: Int64) async throws -> Process {
        let process = try PythonPeers.launchWorker(
            broker.endpoints[0], "nap", heartbeatMilliseconds: testHeartbeat.intervalMilliseconds, liveness: testHeartbeat.liveness,
            busyMilliseconds: busyMilliseconds)
        do {
            try await waitUntil("the MDP worker registered") { broker.status.functions["nap"] == 1 }
        } catch {
            endProcess(process)
            throw error
        }
        return process
    }

    @Test("an MDP worker silent while it runs a call past the expiry (as mdwrkapi) is not lost; its call runs once")
    func mdpWorkerSilentWhileBusy() async throws {
        try await PythonPeers.requirePyzmq()
        let broker = try startBroker()
        defer { broker.stop() }
        let endpoint = broker.endpoints[0]
        let process = try await Self.launchQuietNapWorker(broker, busyMilliseconds: Self.busyMilliseconds)
        defer { endProcess(process) }
        let client = try GridClient(broker: endpoint, heartbeat: testHeartbeat)
        #expect(try await client.call("nap", bytes("plain"), timeout: .seconds(8)) == bytes("PLAIN"))
        #expect(try await client.call("nap", bytes("again"), timeout: .seconds(8), idempotent: true) == bytes("AGAIN"))
        let status = try await settledStatus(broker)
        #expect(status.statistics.workersLost == 0, "a busy MDP worker must not be expired for its silence")
        #expect(status.statistics.callsRetried == 0, "an idempotent call must not run a second time")
        #expect(status.statistics.workersJoined == 1)
        #expect(status.statistics.callsSucceeded == 2)
        let (exitStatus, errors) = await PythonPeers.stop(process)
        #expect(exitStatus == 0, "the MDP worker did not stop cleanly on SIGTERM")
        #expect(errors.isEmpty, "the MDP worker complained: \(errors)")
        await client.close()
    }

    @Test("a busy MDP worker that never answers fails its call by deadline, then is dropped by the idle expiry")
    func hungMdpWorkerIsDroppedAfterTheDeadline() async throws {
        try await PythonPeers.requirePyzmq()
        let broker = try startBroker()
        defer { broker.stop() }
        let endpoint = broker.endpoints[0]
        // Busy far longer than the test: to the broker, as good as dead once it took the request.
        let process = try await Self.launchQuietNapWorker(broker, busyMilliseconds: 60_000)
        defer { endProcess(process) }
        let client = try GridClient(broker: endpoint, heartbeat: testHeartbeat)
        let started = Date()
        do {
            let reply = try await client.call("nap", bytes("zzz"), timeout: .milliseconds(1500))
            Issue.record("the hung worker answered: \(reply)")
        } catch .timeout {
            // Bound by its deadline, not cut short as a lost worker (expiry 800 ms).
        } catch {
            Issue.record("expected a timeout, got \(error)")
        }
        #expect(Date().timeIntervalSince(started) >= 1.4)
        #expect(broker.status.statistics.workersLost == 0)
        try await waitUntil("the hung MDP worker was dropped", seconds: 5) { broker.status.statistics.workersLost == 1 }
        #expect(broker.status.workers == 0)
        #expect(broker.status.functions["nap"] == nil)
        await client.close()
    }
}
