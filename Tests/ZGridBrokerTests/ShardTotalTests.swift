import Testing
import ZGridProtocol

@testable import ZGridBroker

/// A sharded function's total: the first one announced holds while a worker holds its shards.
@Suite struct ShardTotalTests {
    /// READY from `worker` with the service descriptors `descriptors` (such as `f:0-3/4`).
    @discardableResult
    func ready(_ driver: inout Driver, _ worker: PeerID, _ descriptors: [String]) -> [BrokerAction] {
        driver.message(
            worker, .ready(concurrency: 8, functions: descriptors.compactMap { ServiceDescriptor(parsing: $0) }, heartbeats: .always))
    }

    /// The shards of the parts a broadcast over "f" from client 1 sent.
    func broadcastShards(_ driver: inout Driver, requestID: UInt64) -> [UInt32?] {
        driver.message(
            client1,
            .scatter(
                requestID: requestID, function: "f", header: CallHeader(timeoutMilliseconds: 10_000),
                spec: ScatterSpec(mode: .broadcast), payload: driver.payload(), inputs: 0)
        ).requests.map(\.header.shard)
    }

    func refusals(_ actions: [BrokerAction]) -> [(worker: PeerID, reason: String)] {
        actions.compactMap {
            guard case .refuseWorker(let worker, let reason) = $0 else { return nil }
            return (worker, reason)
        }
    }

    @Test func aWorkerAnnouncingAnotherTotalIsRefusedWhileTheFirstIsHeld() throws {
        var driver = Driver(options: testOptions(grace: 60_000))
        ready(&driver, worker1, ["f:0-3/4"])
        let actions = ready(&driver, worker2, ["g", "f:0-7/8"])
        let refusal = try #require(refusals(actions).first)
        #expect(refusal.worker == worker2)
        #expect(refusal.reason.contains("'f' with 8 shards") && refusal.reason.contains("hold 4"), "\(refusal.reason)")
        #expect(actions.notices.contains(.workerRefused(worker2, reason: refusal.reason)))
        #expect(!actions.notices.contains { if case .workerJoined = $0 { true } else { false } }, "refused whole: not joined")
        #expect(driver.core.statistics.workersRefused == 1)
        #expect(driver.core.statistics.workersJoined == 1)
        #expect(broadcastShards(&driver, requestID: 1) == [0, 1, 2, 3], "the partitioning stays the first total's")

        // A worker announcing the same total is welcome, and so is one serving the function plain.
        #expect(refusals(ready(&driver, worker3, ["f:2-3/4"])).isEmpty)
        #expect(refusals(ready(&driver, peer("plain"), ["f"])).isEmpty)
        #expect(driver.core.statistics.workersJoined == 3)
    }

    @Test func theTotalChangesOnceNoWorkerHoldsAShardOfTheOldOne() throws {
        var driver = Driver(options: testOptions(grace: 60_000))
        ready(&driver, worker1, ["f:0-3/4"])
        #expect(refusals(ready(&driver, worker2, ["f:0-7/8"])).count == 1)
        driver.disconnect(worker1)  // idle: forgotten at once

        // Within the grace period, the old layout still queues a broadcast's parts: no worker holds them.
        #expect(broadcastShards(&driver, requestID: 1).isEmpty)
        let joined = ready(&driver, worker2, ["f:0-7/8"])
        #expect(refusals(joined).isEmpty, "no worker holds the old total any more")
        // The old broadcast's parts stay bound to the old layout: the new worker never mixes them in.
        #expect(joined.requests.isEmpty)
        #expect(broadcastShards(&driver, requestID: 2) == (0..<8).map { UInt32($0) })
        #expect(refusals(ready(&driver, worker3, ["f:0-3/4"])).count == 1, "now 4 is the stray total")
    }
}
