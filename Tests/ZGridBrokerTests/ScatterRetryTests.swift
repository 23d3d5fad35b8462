import Testing
import ZGridProtocol

@testable import ZGridBroker

/// Where a scatter part goes after its worker answers ERROR.
@Suite struct ScatterRetryTests {
    /// A parallel map of `inputs` inputs over "f" from client 1.
    func map(_ driver: inout Driver, inputs: Int) -> [BrokerAction] {
        driver.message(
            client1,
            .scatter(
                requestID: 1, function: "f", header: CallHeader(timeoutMilliseconds: 10_000), spec: ScatterSpec(mode: .map),
                payload: driver.payload(), inputs: inputs))
    }

    /// The scatter parts the core sent, as (worker, dispatch id, input frame).
    func parts(_ actions: [BrokerAction]) -> [(worker: PeerID, dispatchID: UInt64, frame: Int)] {
        actions.compactMap {
            guard case .requestPart(let worker, let dispatchID, _, _, _, let frame) = $0 else { return nil }
            return (worker, dispatchID, frame)
        }
    }

    @Test func aFailedPartGoesToAnotherFreeReplica() throws {
        var driver = Driver()
        driver.ready(worker1, concurrency: 1)
        driver.ready(worker2, concurrency: 1)
        let first = try #require(parts(map(&driver, inputs: 1)).first)

        let retry = parts(driver.workerError(first.worker, first.dispatchID))
        #expect(retry.count == 1)
        #expect(retry.first?.worker != first.worker, "the worker that failed the part got it again")
        #expect(retry.first?.frame == first.frame)
        #expect(driver.core.statistics.callsRetried == 1)
    }

    @Test func aFailedPartGoesBackToItsWorkerWhenNoOtherIsFree() throws {
        var driver = Driver()
        driver.ready(worker1, concurrency: 1)
        driver.ready(worker2, concurrency: 1)
        let sent = parts(map(&driver, inputs: 2))
        #expect(Set(sent.map(\.worker)) == [worker1, worker2])
        let failed = try #require(sent.first)

        let retry = parts(driver.workerError(failed.worker, failed.dispatchID))
        #expect(retry.map(\.worker) == [failed.worker], "the part waits for no other worker while its own is free")
        #expect(retry.first?.frame == failed.frame)
    }

    @Test func partsAreCountedApartFromCalls() throws {
        var driver = Driver(options: testOptions(grace: 60_000))
        driver.ready(worker1, concurrency: 4)
        let sent = parts(map(&driver, inputs: 3))
        #expect(sent.count == 3)
        driver.reply(worker1, sent[0].dispatchID)
        driver.reply(worker1, sent[1].dispatchID)
        driver.workerError(worker1, sent[2].dispatchID, .malformed)
        let statistics = driver.core.statistics
        #expect(statistics.partsSucceeded == 2)
        #expect(statistics.partsFailed == 1)
        #expect(statistics.scattersReceived == 1)
        #expect(statistics.callsReceived == 0 && statistics.callsSucceeded == 0 && statistics.callsFailed == 0)

        // A broadcast no worker can take is refused whole: a failed scatter, not a failed call.
        let refused = driver.message(
            client1,
            .scatter(
                requestID: 2, function: "nobody", header: CallHeader(), spec: ScatterSpec(mode: .broadcast), payload: driver.payload(),
                inputs: 0))
        #expect(refused.failures.map(\.code) == [.unknownFunction])
        #expect(driver.core.statistics.scattersFailed == 1)
        #expect(driver.core.statistics.callsFailed == 0)
    }
}

/// A BROADCAST over a function whose sharded workers have all left.
@Suite struct ShardLayoutTests {
    /// A BROADCAST over "f" from client 1 with request id `requestID`.
    func broadcast(_ driver: inout Driver, _ requestID: UInt64) -> [BrokerAction] {
        driver.message(
            client1,
            .scatter(
                requestID: requestID, function: "f", header: CallHeader(timeoutMilliseconds: 60_000),
                spec: ScatterSpec(mode: .broadcast), payload: driver.payload(), inputs: 1))
    }

    @Test func aFunctionNoShardedWorkerHoldsIsPlainAgainAfterTheGracePeriod() throws {
        var driver = Driver(options: testOptions(grace: 5_000))
        driver.message(worker1, .ready(concurrency: 1, functions: [try #require(ServiceDescriptor(parsing: "f:0-1/2"))]))
        driver.ready(worker2, ["f"])
        driver.disconnect(worker1)
        // Within the grace period a restarting shard holder may come back: parts per shard wait.
        var actions = broadcast(&driver, 1)
        #expect(actions.failures.isEmpty)
        #expect(driver.core.scatters.values.first?.parts == 2)
        driver.cancel(client1, 1)
        for _ in 0..<6 {
            driver.heartbeat(worker: worker2)
            driver.heartbeat(client: client1)
            driver.tick(after: 1_000)
        }
        // Past it: one part per plain worker, answered by worker 2.
        actions = broadcast(&driver, 2)
        let parts = actions.requests
        #expect(parts.map(\.worker) == [worker2])
        #expect(driver.core.scatters.values.first?.parts == 1)
        // A sharded worker that comes back makes the function sharded again.
        driver.message(worker3, .ready(concurrency: 1, functions: [try #require(ServiceDescriptor(parsing: "f:0-2/3"))]))
        driver.cancel(client1, 2)
        _ = broadcast(&driver, 3)
        #expect(driver.core.scatters.values.first?.parts == 3)
    }
}
