import Testing
import ZGridProtocol

@testable import ZGridBroker

@Suite struct HeartbeatTests {
    @Test func tickAfterTheIntervalHeartbeatsEveryWorker() {
        var driver = Driver(options: testOptions(interval: 1000, liveness: 3))
        let joined = driver.ready(worker1)
        #expect(joined.workerHeartbeats == [worker1])
        driver.ready(worker2)
        #expect(driver.core.nextWakeup == 1000)

        #expect(driver.tick(at: 999).workerHeartbeats.isEmpty)
        let beat = driver.tick(at: 1000)
        #expect(Set(beat.workerHeartbeats) == [worker1, worker2])
        #expect(beat.workerHeartbeats.count == 2)
        #expect(driver.core.nextWakeup == 2000)

        // Not again until the next interval has passed.
        #expect(driver.tick(at: 1500).workerHeartbeats.isEmpty)
        driver.heartbeat(worker: worker1)
        driver.heartbeat(worker: worker2)
        #expect(driver.tick(at: 2000).workerHeartbeats.count == 2)
    }

    @Test func clientHeartbeatIsAnswered() {
        var driver = Driver()
        #expect(driver.heartbeat(client: client1) == [.heartbeatClient(client1)])
        #expect(driver.heartbeat(client: client2) == [.heartbeatClient(client2)])
    }

    @Test func workerHeartbeatProducesNoActions() {
        var driver = Driver()
        driver.ready(worker1)
        #expect(driver.heartbeat(worker: worker1).isEmpty)
    }

    @Test func silentWorkerIsDroppedAfterIntervalTimesLiveness() {
        var driver = Driver(options: testOptions(interval: 1000, liveness: 3))
        driver.ready(worker1)
        driver.ready(worker2)
        for time in stride(from: Int64(1000), through: 3000, by: 1000) {
            driver.heartbeat(worker: worker2)
            #expect(driver.tick(at: time).workersLeft.isEmpty)
        }
        // Worker 1 has been silent for 4000 ms > 3000 ms.
        driver.heartbeat(worker: worker2)
        let actions = driver.tick(at: 4000)
        #expect(actions.notices == [.workerLeft(worker1, reason: "silent for 3000 ms", inFlight: 0)])
        #expect(actions.workerHeartbeats == [worker2])
        #expect(driver.core.workerCount == 1)
        #expect(driver.core.inFlightCount(of: worker1) == nil)
        #expect(driver.core.statistics.workersLost == 1)
        #expect(driver.core.servedFunctions == ["f": 1])
    }

    @Test func anyMessageFromAWorkerKeepsItAlive() throws {
        var driver = Driver(options: testOptions(interval: 1000, liveness: 2, timeout: 100_000))
        driver.ready(worker1, concurrency: 10)
        driver.heartbeat(client: client1)
        var time: Int64 = 0
        for id in UInt64(1)...8 {
            time += 1000
            driver.now = time
            let request = try #require(driver.call(client1, id).requests.first)
            driver.reply(worker1, request.dispatchID)
            #expect(driver.tick().workersLeft.isEmpty)
        }
        #expect(driver.core.workerCount == 1)
        #expect(driver.tick(at: time + 2001).workersLeft.map(\.worker) == [worker1])
    }
}
