import CoreMetrics
import Histogram
import Prometheus
import ZGridProtocol

/// Watches calls pass through the broker loop and keeps what operators see: swift-metrics counters
/// and gauges (backed by a Prometheus registry of this broker's own), a call-duration histogram per
/// function, and per-function counts and latency percentiles for the status report.
///
/// A call is timed from its CALL arriving to its REPLY or ERROR leaving, at the loop: the core notes
/// both (``CallCompletion``), so the observer keeps no table of calls in flight. Per call it only
/// counts on the loop thread; the Prometheus counters catch up and the duration histogram is
/// rendered when the metrics are scraped (see ``prometheusText()``).
final class BrokerObserver {
    /// The registry the metrics endpoint renders.
    let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private var functions: [String: FunctionStats] = [:]
    /// The function of the last lookup: calls mostly come in runs for one function.
    private var lastLookup: (name: String, stats: FunctionStats)?
    /// The Prometheus counter of each counter published, by its place in the list the loop
    /// publishes, with the value it was last brought up to.
    private var counterSlots: [(counter: CoreMetrics.Counter, published: Int)] = []
    // The gauges, made at the first publish.
    private lazy var workersGauge = CoreMetrics.Gauge(label: "zgrid_workers", factory: factory)
    private lazy var callsInFlightGauge = CoreMetrics.Gauge(label: "zgrid_calls_in_flight", factory: factory)
    private lazy var subscriptionsGauge = CoreMetrics.Gauge(label: "zgrid_subscriptions_open", factory: factory)
    /// `zgrid_jobs` by state: queued, scheduled, running, deferred.
    private lazy var jobGauges = ["queued", "scheduled", "running", "deferred"].map { state in
        (state: state, gauge: CoreMetrics.Gauge(label: "zgrid_jobs", dimensions: [("state", state)], factory: factory))
    }

    /// The most distinct function names tracked; calls to further names count under ``other``. Each
    /// costs a latency histogram (tens of KB), so the bound keeps the observer's memory bounded.
    static let maxFunctions = 1_000

    /// The name calls to functions no worker serves are counted under (they are not tracked one by
    /// one, so invented names cannot grow the observer): not a valid function name, so it cannot be
    /// taken for a function really called `other`.
    static let other = StatusReport.Function.otherName
    /// One function's figures. Only the loop thread touches them, so the fields changed per call
    /// skip the runtime's exclusivity checks (which cost more than the counting itself).
    private final class FunctionStats {
        @exclusivity(unchecked) var succeeded = 0
        @exclusivity(unchecked) var failed = 0
        @exclusivity(unchecked) var latency = Histogram<UInt64>(
            highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .two)
        /// p50 and p99 as last computed, and the sample count they were computed at: a status report
        /// recomputes percentiles only for functions with new samples, so thousands of idle names
        /// (a fuzzer's, say) cost nothing per report.
        var percentiles: (count: UInt64, p50: Int, p99: Int) = (0, 0, 0)
        /// What `zgrid_call_duration_seconds` shows for the function.
        @exclusivity(unchecked) var durations: CallDurationHistogram
        /// The counts the Prometheus counters were last brought up to.
        var published = (succeeded: 0, failed: 0)

        /// The p50 and p99 latency in microseconds, 0 when nothing was recorded.
        func currentPercentiles() -> (p50: Int, p99: Int) {
            let count = latency.totalCount
            if count != percentiles.count {
                percentiles = (count, Int(latency.valueAtPercentile(50)), Int(latency.valueAtPercentile(99)))
            }
            return (percentiles.p50, percentiles.p99)
        }
        let ok: CoreMetrics.Counter
        let errors: CoreMetrics.Counter

        init(_ name: String, factory: PrometheusMetricsFactory) {
            ok = CoreMetrics.Counter(label: "zgrid_calls_total", dimensions: [("function", name), ("outcome", "ok")], factory: factory)
            errors = CoreMetrics.Counter(
                label: "zgrid_calls_total", dimensions: [("function", name), ("outcome", "error")], factory: factory)
            durations = CallDurationHistogram(bounds: BrokerObserver.durationBuckets)
        }

        /// Brings the Prometheus counters up to `succeeded` and `failed`.
        func publishCounts() {
            if succeeded > published.succeeded { ok.increment(by: Int64(succeeded - published.succeeded)) }
            if failed > published.failed { errors.increment(by: Int64(failed - published.failed)) }
            published = (succeeded, failed)
        }
    }

    /// The bucket bounds of `zgrid_call_duration_seconds`.
    static let durationBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(5), .seconds(30),
    ]

    init() {
        factory = PrometheusMetricsFactory(registry: registry)
    }

    /// Counts and times the calls `completions` tells of, answered at `now` (monotonic nanoseconds).
    func callsEnded(_ completions: [CallCompletion], now: UInt64) {
        for completion in completions {
            let stats = stats(for: completion.function ?? Self.other)
            if completion.succeeded {
                stats.succeeded += 1
            } else {
                stats.failed += 1
            }
            let elapsed = now &- completion.arrivedAt
            stats.latency.record(elapsed / 1000)
            stats.durations.record(nanoseconds: Int64(clamping: elapsed))
        }
    }

    private func stats(for function: String) -> FunctionStats {
        if let lastLookup, lastLookup.name == function { return lastLookup.stats }
        let stats = trackedStats(for: function)
        lastLookup = (function, stats)
        return stats
    }

    private func trackedStats(for function: String) -> FunctionStats {
        if let stats = functions[function] { return stats }
        let name = functions.count < Self.maxFunctions ? function : Self.other
        if let stats = functions[name] { return stats }
        let stats = FunctionStats(name, factory: factory)
        functions[name] = stats
        return stats
    }

    /// Brings gauges and counters up to date with the core's figures: `values` holds the counters
    /// named by `names`, in the same order (the same names at every publish). `jobs` holds
    /// unfinished jobs by state, queued ones in memory apart from those waiting only on disk
    /// (`queued_on_disk`): both are queued.
    func publish(
        counterNames names: [String], values: [Int], workers: Int, callsInFlight: Int, jobs: [String: Int], subscriptionsOpen: Int
    ) {
        for index in values.indices {
            if index == counterSlots.count {
                // Every counter exists from its first publish on, at 0 too: a scraper (and an alert
                // on its rate) sees it before it first moves.
                counterSlots.append((CoreMetrics.Counter(label: "zgrid_\(names[index])_total", factory: factory), 0))
            }
            let delta = values[index] - counterSlots[index].published
            if delta > 0 { counterSlots[index].counter.increment(by: Int64(delta)) }
            counterSlots[index].published = values[index]
        }
        workersGauge.record(workers)
        callsInFlightGauge.record(callsInFlight)
        subscriptionsGauge.record(subscriptionsOpen)
        for (state, gauge) in jobGauges {
            let count = state == "queued" ? (jobs["queued"] ?? 0) + (jobs["queued_on_disk"] ?? 0) : jobs[state] ?? 0
            gauge.record(count)
        }
    }

    /// Per-function entries of the status report, joining the core's load figures.
    func functionReports(_ loads: [String: (workers: Int, capacity: Int, inFlight: Int, queued: Int)]) -> [StatusReport.Function] {
        let names = Set(loads.keys).union(functions.keys)
        return names.sorted().map { name in
            let load = loads[name] ?? (0, 0, 0, 0)
            let stats = functions[name]
            let (p50, p99) = stats?.currentPercentiles() ?? (0, 0)
            return StatusReport.Function(
                name: name, workers: load.workers, capacity: load.capacity, inFlight: load.inFlight, queuedCalls: load.queued,
                succeeded: stats?.succeeded ?? 0, failed: stats?.failed ?? 0, p50Microseconds: p50, p99Microseconds: p99)
        }
    }

    /// The Prometheus text exposition of every metric.
    func prometheusText() -> [UInt8] {
        for stats in functions.values { stats.publishCounts() }
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        guard !functions.isEmpty else { return buffer }
        let name = "zgrid_call_duration_seconds"
        buffer.append(contentsOf: "# TYPE \(name) histogram\n".utf8)
        for (function, stats) in functions.sorted(by: { $0.key < $1.key }) {
            stats.durations.emit(name: name, labels: "function=\"\(function)\"", into: &buffer)
        }
        return buffer
    }
}
