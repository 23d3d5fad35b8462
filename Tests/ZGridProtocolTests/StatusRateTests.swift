import Testing
import ZGridProtocol

@Suite("Call rates between two status reports")
struct StatusRateTests {
    private func report(uptime: Int64, succeeded: Int, failed: Int) -> StatusReport {
        StatusReport(
            uptimeMilliseconds: uptime, workers: [],
            functions: [
                StatusReport.Function(
                    name: "echo", workers: 1, capacity: 8, inFlight: 0, queuedCalls: 0, succeeded: succeeded, failed: failed,
                    p50Microseconds: 0, p99Microseconds: 0)
            ], jobs: [:], queuedJobsByPriority: [:], counters: [:])
    }

    @Test("the rate is over the broker's own time between the reports, however long they took to fetch")
    func overBrokerTime() throws {
        let earlier = report(uptime: 10_000, succeeded: 100, failed: 10)
        let later = report(uptime: 12_500, succeeded: 540, failed: 70)
        #expect(later.callsPerSecond(of: later.functions[0], since: earlier) == 200)
    }

    @Test("no rate across a broker restart (counts from 0 again), for a function new since, or when no time passed")
    func noRate() {
        let earlier = report(uptime: 60_000, succeeded: 5_000, failed: 0)
        let restarted = report(uptime: 1_000, succeeded: 40, failed: 0)
        #expect(restarted.callsPerSecond(of: restarted.functions[0], since: earlier) == nil)
        #expect(earlier.callsPerSecond(of: earlier.functions[0], since: earlier) == nil)
        var other = report(uptime: 61_000, succeeded: 1, failed: 0)
        other.functions[0].name = "hash"
        #expect(other.callsPerSecond(of: other.functions[0], since: earlier) == nil)
    }
}
