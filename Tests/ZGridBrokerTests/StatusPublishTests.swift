import Testing
import ZGridProtocol

@testable import ZGridBroker

/// What the loop publishes about every 20 ms: the functions with workers, kept up to date as
/// workers come and go instead of worked out from every service at each publish, and the counters,
/// read in a fixed order instead of through dictionaries.
@Suite("Status publish")
struct StatusPublishTests {
    /// What the published table must say: every function name (not a shard's or a worker's own
    /// key) with at least one worker that is not draining, and how many.
    func expected(_ core: BrokerCore) -> [String: Int] {
        var served: [String: Int] = [:]
        for (name, service) in core.services where !name.contains("@") && !name.contains("#") && !service.workers.isEmpty {
            served[name] = service.workers.count
        }
        return served
    }

    @Test("the table follows workers that register, drain, disconnect, are lost and register again")
    func followsWorkers() {
        var driver = Driver(options: testOptions(grace: 60_000))
        let worker3 = peer("worker-3")
        let sharded = ServiceDescriptor(name: "s", shards: ShardSpec(sortedIndices: [0, 1], total: 4))
        #expect(driver.core.servedFunctions.isEmpty)
        driver.ready(worker1, ["f", "g"], concurrency: 2)
        driver.ready(worker2, ["f"], concurrency: 1)
        driver.message(worker3, .ready(concurrency: 1, functions: [ServiceDescriptor(name: "h"), sharded], heartbeats: .always))
        #expect(driver.core.servedFunctions == ["f": 2, "g": 1, "h": 1, "s": 1])
        #expect(driver.core.servedFunctions == expected(driver.core))

        // Drained by an operator: still registered, but no longer serving.
        var actions: [BrokerAction] = []
        #expect(driver.core.drainWorker(named: worker2.description, now: driver.now, into: &actions))
        #expect(driver.core.servedFunctions == ["f": 1, "g": 1, "h": 1, "s": 1])
        #expect(driver.core.servedFunctions == expected(driver.core))

        // Its own DISCONNECT after the drain changes nothing more; worker 1's removes f and g.
        driver.disconnect(worker2)
        driver.disconnect(worker1)
        #expect(driver.core.servedFunctions == ["h": 1, "s": 1])
        #expect(driver.core.servedFunctions == expected(driver.core))

        // Worker 3 falls silent and is lost; worker 1 comes back.
        driver.now = 1000
        driver.ready(worker1, ["f"], concurrency: 2)
        for _ in 0..<5 {
            driver.heartbeat(worker: worker1)
            driver.tick(after: 1000)
        }
        #expect(driver.core.workerCount == 1)
        #expect(driver.core.servedFunctions == ["f": 1])
        #expect(driver.core.servedFunctions == expected(driver.core))
    }

    /// The Prometheus text of `observer` after it published `statistics` and an event hub's
    /// counters.
    func published(_ statistics: BrokerStatistics, by observer: BrokerObserver, jobs: [String: Int] = [:]) -> String {
        var values: [Int] = []
        statistics.appendValues(to: &values)
        EventHub().appendCounters(to: &values)
        observer.publish(
            counterNames: BrokerStatistics.names + EventHub.counterNames, values: values, workers: 2, callsInFlight: 3, jobs: jobs,
            subscriptionsOpen: 0)
        return String(decoding: observer.prometheusText(), as: UTF8.self)
    }

    @Test("every counter is published under its name, at 0 too, and moves by what it gained")
    func countersPublished() {
        var statistics = BrokerStatistics()
        #expect(BrokerStatistics.fields.count == Mirror(reflecting: statistics).children.count, "every counter has a name")
        #expect(Set(BrokerStatistics.names).count == BrokerStatistics.names.count)
        let observer = BrokerObserver()
        let first = published(statistics, by: observer, jobs: ["queued": 1, "queued_on_disk": 4, "running": 2])
        for name in BrokerStatistics.names + EventHub.counterNames {
            #expect(first.contains("zgrid_\(name)_total 0\n"), "\(name)")
        }
        #expect(first.contains("zgrid_jobs{state=\"queued\"} 5"), "\(first)")
        #expect(first.contains("zgrid_jobs{state=\"running\"} 2") && first.contains("zgrid_jobs{state=\"deferred\"} 0"))
        #expect(first.contains("zgrid_workers 2") && first.contains("zgrid_calls_in_flight 3"))
        statistics.callsReceived = 7
        statistics.workersLost = 2
        let second = published(statistics, by: observer)
        #expect(second.contains("zgrid_calls_received_total 7\n") && second.contains("zgrid_workers_lost_total 2\n"), "\(second)")
        #expect(second.contains("zgrid_jobs{state=\"queued\"} 0"))
        #expect(statistics.named["calls_received"] == 7 && statistics.named.count == BrokerStatistics.names.count)
    }
}
