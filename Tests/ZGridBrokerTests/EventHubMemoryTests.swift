import Testing
import ZGridJobStore
import ZGridProtocol

@testable import ZGridBroker

@Suite("Event hub: the events waiting for a slow store's commits take room for what they hold")
struct EventHubMemoryTests {
    @Test("after a burst of 20,000 events, each later write waiting to commit holds an array sized for its own events, not for the burst")
    func waitingWritesStaySmall() {
        var harness = EventHubTests.Harness()
        for job in 0..<20_000 { harness.hub.publish(EventRecord(at: 0, kind: GridEventKind.started.rawValue, job: Int64(job))) }
        harness.take()
        // The store is slow: nothing commits while the loop flushes a few events per pass.
        for job in 0..<200 { harness.publish([.succeeded], job: Int64(job)) }
        let waiting = harness.hub.awaitingCommit.values.filter { $0.count == 1 }
        #expect(waiting.count == 200)
        let largest = waiting.map(\.capacity).max() ?? 0
        // Before, every flush after the burst allocated the burst's capacity (over 20,000 events,
        // some 5 MB) for the next one: 200 passes held about 1 GB until their commits.
        #expect(largest < 64, "a write of one event holds room for \(largest)")
        harness.commitAll()
        #expect(harness.hub.awaitingCommit.isEmpty)
    }
}
