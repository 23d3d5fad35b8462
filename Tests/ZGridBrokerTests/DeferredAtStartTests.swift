import Testing
import ZGridJobStore
import ZGridProtocol

@testable import ZGridBroker

/// Deferred jobs found in the store at start (parked by load shedding before a restart).
@Suite("Deferred jobs recovered at start")
struct DeferredAtStartTests {
    /// A sheddable job of `f`, deferred, as a store holds it.
    static func deferred(_ id: Int64) -> JobRecord {
        var record = JobRecord(id: id, function: "f", payload: [7], state: .deferred, createdAt: 1_700_000_000_000)
        record.sheddable = true
        return record
    }

    @Test("with load shedding on, the sweep queues them again once the broker has been calm for calm_ms")
    func sweptWhenCalm() throws {
        var driver = Driver(options: BrokerOptions(shedding: SheddingPolicy(calmMilliseconds: 500)))
        var actions: [BrokerAction] = []
        driver.core.recoverJobs([Self.deferred(1)], maxID: 1, now: 0, into: &actions)
        driver.ready(worker1, concurrency: 4)
        var attempts: [Int64] = []
        for _ in 0..<10 { attempts += driver.tick(after: 100).jobAttempts.map(\.job) }
        #expect(attempts == [1])
    }

    @Test("with load shedding off (turned off before the restart), they are queued again at once instead of never")
    func sweptWithSheddingOff() throws {
        var driver = Driver(options: BrokerOptions(shedding: SheddingPolicy(enabled: false, calmMilliseconds: 500)))
        var actions: [BrokerAction] = []
        driver.core.recoverJobs([Self.deferred(1), Self.deferred(2)], maxID: 2, now: 0, into: &actions)
        driver.ready(worker1, concurrency: 4)
        var attempts: [Int64] = []
        for _ in 0..<10 { attempts += driver.tick(after: 100).jobAttempts.map(\.job) }
        #expect(attempts.sorted() == [1, 2])
        #expect(driver.core.nextSweep(now: driver.now) == nil, "no more ticks for a sweep")
    }
}
