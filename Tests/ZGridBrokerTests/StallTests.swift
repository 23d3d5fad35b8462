import Testing
import ZGridProtocol

@testable import ZGridBroker

@Suite struct StallTests {
    /// Expiry 3000 ms, stall forgiveness as configured; calls outlast everything here.
    func options(forgiving: Bool) -> BrokerOptions {
        testOptions(interval: 1000, liveness: 3, timeout: 60_000, grace: 60_000, forgivesOwnStalls: forgiving)
    }

    /// A worker running a call of a client, both heard until 1000 ms; then the broker's next tick
    /// comes only at 10,000 ms, as after a SIGSTOP of 9 s.
    func stalledBroker(forgiving: Bool) -> (Driver, [BrokerAction]) {
        var driver = Driver(options: options(forgiving: forgiving))
        driver.ready(worker1)
        driver.call(client1, 1)
        driver.now = 1000
        driver.heartbeat(worker: worker1)
        driver.heartbeat(client: client1)
        driver.tick()
        let actions = driver.tick(at: 10_000)
        return (driver, actions)
    }

    @Test("a tick long after the one before (the broker stalled) gives every worker and client a fresh expiry")
    func stallIsNotCountedAgainstPeers() {
        var (driver, actions) = stalledBroker(forgiving: true)
        #expect(actions.workersLeft.isEmpty)
        #expect(actions.failures.isEmpty)
        #expect(actions.notices.contains(.stalled(milliseconds: 9000)))
        #expect(driver.core.workerCount == 1)
        #expect(driver.core.callsInFlight == 1)
        // Heard again after the stall, they stay; silent, they expire from the stall's end on.
        driver.heartbeat(client: client1)
        #expect(driver.tick(at: 12_000).workersLeft.isEmpty)
        driver.heartbeat(client: client1)
        let expired = driver.tick(at: 13_001)
        #expect(expired.workersLeft.map(\.worker) == [worker1])
        #expect(expired.failures.map(\.code) == [.workerLost])
    }

    @Test("without stall forgiveness the same stall loses the worker and the client's call")
    func stallCountsAgainstPeersWhenNotForgiven() {
        let (driver, actions) = stalledBroker(forgiving: false)
        #expect(actions.workersLeft.map(\.worker) == [worker1])
        #expect(driver.core.callsInFlight == 0)
    }

    @Test("for one expiry after a stall a closed connection does not lose a worker at once")
    func connectionLossWaitsAfterAStall() {
        var (driver, _) = stalledBroker(forgiving: true)
        #expect(driver.send(.connectionClosed(from: worker1)).workersLeft.isEmpty)
        driver.now = 13_000
        #expect(driver.send(.connectionClosed(from: worker1)).workersLeft.map(\.worker) == [worker1])
    }

    @Test("a stall noticed as the loop wakes, before its tick, spares a worker whose connection is found closed first")
    func stallNoticedBeforeTheTick() {
        var driver = Driver(options: options(forgiving: true))
        driver.ready(worker1)
        driver.call(client1, 1)
        driver.now = 1000
        driver.heartbeat(worker: worker1)
        driver.tick()
        // The loop wakes at 10,000 ms, notices the stall, then meets the closed connection of the
        // worker (which gave up on the silent broker) before it ticks.
        driver.now = 10_000
        var noticed: [BrokerAction] = []
        driver.core.noticeOwnStall(now: 10_000, into: &noticed)
        #expect(noticed.notices.contains(.stalled(milliseconds: 9000)))
        #expect(driver.send(.connectionClosed(from: worker1)).workersLeft.isEmpty)
        let tick = driver.tick(at: 10_000)
        #expect(!tick.notices.contains { if case .stalled = $0 { true } else { false } }, "noticed once, not again by the tick")
        #expect(tick.workersLeft.isEmpty)
        #expect(driver.core.callsInFlight == 1)
        // Without a stall, waking notices nothing.
        var quiet: [BrokerAction] = []
        driver.core.noticeOwnStall(now: 10_500, into: &quiet)
        #expect(quiet.isEmpty)
    }

    @Test("ticks one interval apart, however many, are no stall")
    func regularTicksAreNoStall() {
        var driver = Driver(options: options(forgiving: true))
        driver.ready(worker1)
        var actions: [BrokerAction] = []
        for time in stride(from: Int64(1000), through: 4000, by: 1000) { actions += driver.tick(at: time) }
        #expect(!actions.notices.contains(.stalled(milliseconds: 1000)))
        #expect(actions.workersLeft.map(\.worker) == [worker1])
    }
}
