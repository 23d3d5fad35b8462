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
}
