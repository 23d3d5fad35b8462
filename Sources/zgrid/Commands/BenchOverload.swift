import ArgumentParser
import Foundation
import Histogram
import Synchronization
import ZGridClient
import ZGridProtocol

/// `zgrid bench overload`: offers a running cluster several times the load it sustains (calls and
/// sheddable jobs of low priority) and measures what queue control keeps for high-priority
/// interactive calls.
///
/// Four phases: an idle baseline of synchronous high-priority probe calls; a closed loop measuring
/// the sustainable rate of the background calls; an open-loop overload phase (sent on a schedule,
/// so the offered rate never slows down with the system) with the probe running alongside; a drain
/// that waits for every accepted job and checks that it succeeded.
struct BenchOverload: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "overload",
        abstract:
            "Offer a running cluster a multiple of its sustainable rate of low-priority calls and sheddable jobs; compare high-priority p99 with the idle system, count BUSY answers and deferred jobs, check every accepted job completes."
    )

    @OptionGroup var common: CommonOptions

    @Option(name: .long, help: "The broker endpoint; defaults to [broker] connect.")
    var connect: String?

    @Option(name: .long, help: "The function of the background calls and jobs.")
    var function: String = "sleep"

    @Option(name: .long, help: "Their payload (sleep: milliseconds).")
    var payload: String = "5"

    @Option(name: .long, help: "The function of the high-priority probe calls.")
    var probeFunction: String = "sleep"

    @Option(name: .long, help: "Their payload.")
    var probePayload: String = "1"

    @Option(name: .long, help: "Their priority (0-9).")
    var probePriority: Int = 9

    @Option(name: .long, help: "Probe calls timed one at a time on the idle system.")
    var idleCalls: Int = 2000

    @Option(name: .long, help: "Seconds of the closed loop that measures the sustainable rate.")
    var calibrateSeconds: Double = 3

    @Option(name: .long, help: "Calls in flight in that loop; default: twice the function's capacity, at least 16.")
    var calibrateConcurrency: Int?

    @Option(name: .long, help: "The sustainable rate (operations/s) to assume instead of measuring it.")
    var rate: Double?

    @Option(name: .long, help: "The offered rate as a multiple of the sustainable rate.")
    var factor: Double = 3

    @Option(name: .long, help: "Seconds of the overload phase.")
    var duration: Double = 10

    @Option(name: .long, help: "The share of the offered operations that are calls (the rest are job submits), 0 to 1.")
    var callShare: Double = 0.5

    @Option(name: .long, help: "The priority of the background calls (0-9).")
    var callPriority: Int = 0

    @Option(name: .long, help: "A priority of the background jobs (repeatable: jobs take them in turn).")
    var jobPriority: [Int] = [0, 1]

    @Flag(inversion: .prefixedNo, help: "Submit the background jobs as sheddable (load shedding may defer them).")
    var sheddable = true

    @Option(name: .long, help: "Time limit of each background call in milliseconds.")
    var callTimeoutMs: Int = 2000

    @Option(name: .long, help: "Time limit of each probe call in milliseconds.")
    var probeTimeoutMs: Int = 10_000

    @Option(name: .long, help: "The most background operations in flight; past it, scheduled ones are dropped (and counted).")
    var maxInFlight: Int = 20_000

    @Option(name: .long, help: "Connections sending the background load (the broker allows each 10,000 calls in flight).")
    var clients: Int = 4

    @Option(name: .long, help: "The longest wait, in seconds, for the accepted jobs to finish after the overload phase.")
    var drainTimeout: Double = 120

    func validate() throws {
        guard idleCalls >= 1, duration > 0, factor > 0, calibrateSeconds > 0, clients >= 1, maxInFlight >= 1 else {
            throw ValidationError("--idle-calls, --duration, --factor, --calibrate-seconds, --clients and --max-in-flight must be positive")
        }
        guard (0...1).contains(callShare) else { throw ValidationError("--call-share must be from 0 to 1") }
        guard !jobPriority.isEmpty, (jobPriority + [callPriority, probePriority]).allSatisfy({ (0...9).contains($0) }) else {
            throw ValidationError("priorities must be from 0 to 9")
        }
        if let rate, rate <= 0 { throw ValidationError("--rate must be positive") }
    }

    func run() async throws {
        let config = try common.loadConfig()
        let logger = try common.bootstrapLogging(config, label: "zgrid.bench", defaultLevel: "warning")
        let control = try common.client(config, connect: connect, busyRetries: 0, logger: logger)
        let load = try (0..<clients).map { _ in try common.client(config, connect: connect, busyRetries: 0, logger: logger) }
        let result: Result<JobOutcome, any Error>
        do { result = .success(try await measure(control, load)) } catch { result = .failure(error) }
        await control.close()
        for client in load { await client.close() }
        guard try result.get().allSucceeded else { throw ExitCode(1) }
    }

    /// The four phases; prints the summary and returns what became of the accepted jobs.
    private func measure(_ control: GridClient, _ load: [GridClient]) async throws -> JobOutcome {
        let work = Workload(
            function: function, payload: Array(payload.utf8), callPriority: callPriority, callTimeout: .milliseconds(callTimeoutMs),
            probeFunction: probeFunction, probePayload: Array(probePayload.utf8), probePriority: probePriority,
            probeTimeout: .milliseconds(probeTimeoutMs))
        let status = try await control.brokerStatus()
        guard let served = status.functions.first(where: { $0.name == function }), served.workers > 0 else {
            throw ValidationError("no worker serves '\(function)': start workers first (zgrid up, or zgrid worker --function \(function))")
        }

        // 1. Idle baseline.
        for _ in 0..<min(100, idleCalls / 10) { _ = try? await work.probe(control) }
        let idle = ProbeRecorder()
        try await Progress.during({ "idle baseline: \(idle.line())" }) {
            await Self.probe(work, control, count: idleCalls, until: .max, into: idle).value
        }

        // 2. The sustainable rate.
        let sustainable: Double
        if let rate {
            sustainable = rate
        } else {
            let concurrency = calibrateConcurrency ?? max(16, 2 * served.capacity)
            sustainable = try await Self.calibrate(work, load, concurrency: concurrency, seconds: calibrateSeconds)
        }

        // 3. Overload, with the probe alongside.
        let before = try await control.brokerStatus().counters
        let offered = factor * sustainable
        let recorder = OverloadRecorder(cap: maxInFlight)
        let probe = ProbeRecorder()
        let started = MonotonicClock.nowNanoseconds()
        let end = started + UInt64(duration * 1e9)
        let mix = Mix(callShare: callShare, jobPriorities: jobPriority, sheddable: sheddable)
        try await Progress.during({
            let elapsed = Double(MonotonicClock.nowNanoseconds() - started) / 1e9
            return String(format: "overload %5.1fs: ", elapsed) + recorder.line() + " | probe " + probe.line()
        }) {
            let probing = Self.probe(work, control, count: .max, until: end, into: probe)
            await Self.offer(work, mix, load, rate: offered, from: started, seconds: duration, into: recorder)
            await probing.value
        }
        let tailSeconds = Double(MonotonicClock.nowNanoseconds() - end) / 1e9

        // 4. Drain: every accepted job must finish, and succeed.
        let drainStarted = MonotonicClock.nowNanoseconds()
        let counts = recorder.counts()
        var drained = false
        try await Progress.during({
            let report = try? await control.brokerStatus()
            let jobs = report?.jobs ?? [:]
            let elapsed = Double(MonotonicClock.nowNanoseconds() - drainStarted) / 1e9
            return String(
                format: "drain %5.1fs: %d queued %d running %d deferred (broker-wide)", elapsed, jobs["queued"] ?? 0, jobs["running"] ?? 0,
                jobs["deferred"] ?? 0)
        }) {
            while Double(MonotonicClock.nowNanoseconds() - drainStarted) / 1e9 < drainTimeout {
                if try await !Self.anyUnfinished(control, load) {
                    drained = true
                    break
                }
                try await Task.sleep(for: .milliseconds(250))
            }
        }
        let drainSeconds = Double(MonotonicClock.nowNanoseconds() - drainStarted) / 1e9
        let outcome = try await Self.check(counts.accepted, control, load)
        let after = try await control.brokerStatus().counters
        func delta(_ name: String) -> Int { (after[name] ?? 0) - (before[name] ?? 0) }

        let idleStats = idle.state()
        let probeStats = probe.state()
        let idleP99 = idleStats.histogram.valueAtPercentile(99)
        let overloadP99 = probeStats.histogram.valueAtPercentile(99)
        let fields: [(String, String)] = [
            ("function", function), ("payload", payload), ("probe", "\(probeFunction):\(probePayload)@\(probePriority)"),
            ("workers", "\(served.workers)"), ("capacity", "\(served.capacity)"),
            ("sustainable_rate", String(format: "%.0f", sustainable)), ("offered_rate", String(format: "%.0f", offered)),
            ("sent_rate", String(format: "%.0f", Double(counts.sent) / duration)), ("duration_s", String(format: "%.1f", duration)),
            ("tail_s", String(format: "%.1f", tailSeconds)), ("max_lag_ms", String(format: "%.1f", Double(counts.maxLag) / 1e6)),
            ("idle_p50_us", formatMicroseconds(idleStats.histogram.valueAtPercentile(50))), ("idle_p99_us", formatMicroseconds(idleP99)),
            ("idle_p999_us", formatMicroseconds(idleStats.histogram.valueAtPercentile(99.9))),
            ("overload_p50_us", formatMicroseconds(probeStats.histogram.valueAtPercentile(50))),
            ("overload_p99_us", formatMicroseconds(overloadP99)),
            ("overload_p999_us", formatMicroseconds(probeStats.histogram.valueAtPercentile(99.9))),
            ("p99_ratio", String(format: "%.2f", Double(overloadP99) / Double(max(1, idleP99)))),
            ("probe_calls", "\(probeStats.histogram.totalCount)"), ("probe_busy", "\(probeStats.busy)"),
            ("probe_errors", "\(probeStats.errors)"),
            ("calls_sent", "\(counts.callsSent)"), ("calls_ok", "\(counts.callsOK)"), ("calls_busy", "\(counts.callsBusy)"),
            ("calls_timeout", "\(counts.callsTimeout)"), ("calls_p99_us", formatMicroseconds(counts.callLatency.valueAtPercentile(99))),
            ("jobs_sent", "\(counts.jobsSent)"), ("jobs_busy", "\(counts.jobsBusy)"),
            ("busy_answers", "\(counts.callsBusy + counts.jobsBusy + probeStats.busy)"), ("dropped", "\(counts.dropped)"),
            ("errors", "\(counts.callsFailed + counts.jobsFailed + idleStats.errors + probeStats.errors)"),
            ("admission_refusals", "\(delta("admission_refusals"))"), ("jobs_accepted", "\(counts.accepted.count)"),
            ("jobs_deferred", "\(delta("jobs_deferred"))"), ("jobs_swept", "\(delta("jobs_swept"))"),
            ("jobs_completed", "\(outcome.succeeded)"), ("jobs_failed", "\(outcome.failed)"), ("jobs_unfinished", "\(outcome.unfinished)"),
            ("lost_jobs", "\(outcome.lost)"), ("drain_s", String(format: "%.1f", drainSeconds)),
            ("all_completed", outcome.allSucceeded ? "yes" : "no"),
        ]
        for (what, message) in [("probe", idleStats.firstError), ("overload probe", probeStats.firstError), ("load", counts.firstError)] {
            if let message { FileHandle.standardError.write(Data("first \(what) error: \(message)\n".utf8)) }
        }
        print(fields.map { "\($0.0)=\($0.1)" }.joined(separator: " "))
        if !drained { FileHandle.standardError.write(Data("accepted jobs still unfinished after \(drainTimeout) s\n".utf8)) }
        return outcome
    }

    // MARK: Phases

    /// Synchronous probe calls one at a time, `count` of them or until `deadline`, in a task on the
    /// client's I/O thread executor: the thousands of load tasks on Swift's global executor do not
    /// delay its resumptions. After a BUSY answer the next waits its retry-after time (at most
    /// 1 s); after another error, 10 ms.
    private static func probe(_ work: Workload, _ client: GridClient, count: Int, until deadline: UInt64, into recorder: ProbeRecorder)
        -> Task<Void, Never>
    {
        Task(executorPreference: client.executor) { await probeLoop(work, client, count: count, until: deadline, into: recorder) }
    }

    /// The loop of ``probe(_:_:count:until:into:)``.
    private static func probeLoop(_ work: Workload, _ client: GridClient, count: Int, until deadline: UInt64, into recorder: ProbeRecorder)
        async
    {
        var done = 0
        while done < count, MonotonicClock.nowNanoseconds() < deadline {
            done += 1
            let begin = MonotonicClock.nowNanoseconds()
            do throws(GridError) {
                try await work.probe(client)
                recorder.succeeded(MonotonicClock.nowNanoseconds() - begin)
            } catch {
                let pause: Duration
                if case .busy(_, let retryAfter) = error {
                    recorder.busy()
                    pause = min(retryAfter ?? .milliseconds(100), .seconds(1))
                } else {
                    recorder.failed(error)
                    pause = .milliseconds(10)
                }
                try? await Task.sleep(for: pause)
            }
        }
    }

    /// Completed background calls per second with `concurrency` kept in flight for `seconds` (the
    /// calling tasks on their clients' I/O thread executors, as in the overload phase).
    private static func calibrate(_ work: Workload, _ clients: [GridClient], concurrency: Int, seconds: Double) async throws -> Double {
        let started = MonotonicClock.nowNanoseconds()
        let deadline = started + UInt64(seconds * 1e9)
        let counts = CalibrationCounts()
        try await Progress.during({
            let elapsed = Double(MonotonicClock.nowNanoseconds() - started) / 1e9
            let done = counts.completed.load(ordering: .relaxed)
            return String(
                format: "calibrating %4.1fs: %d calls in flight, %d done, %.0f/s, %d failed", elapsed, concurrency, done,
                Double(done) / max(elapsed, 0.001), counts.failed.load(ordering: .relaxed))
        }) {
            await withDiscardingTaskGroup { group in
                for index in 0..<concurrency {
                    let client = clients[index % clients.count]
                    group.addTask(executorPreference: client.executor) {
                        while MonotonicClock.nowNanoseconds() < deadline {
                            do {
                                _ = try await work.call(client)
                                counts.completed.add(1, ordering: .relaxed)
                            } catch {
                                counts.failed.add(1, ordering: .relaxed)
                                try? await Task.sleep(for: .milliseconds(10))
                            }
                        }
                    }
                }
            }
        }
        let elapsed = Double(MonotonicClock.nowNanoseconds() - started) / 1e9
        let rate = Double(counts.completed.load(ordering: .relaxed)) / elapsed
        guard rate > 0 else { throw ValidationError("no background call completed while calibrating: is '\(work.function)' served?") }
        return rate
    }

    /// The open-loop generator: operation `i` of `rate × seconds` is due at `i / rate` seconds after
    /// `started`; every due operation is started whatever the answers so far (dropped, and
    /// counted, when the recorder's cap is in flight). When the generator wakes late it starts
    /// all operations due by then at once, and records how late it was. Each operation's task
    /// runs on its client's I/O thread executor, which keeps Swift's global executor free for the
    /// generator's own wake-ups.
    private static func offer(
        _ work: Workload, _ mix: Mix, _ clients: [GridClient], rate: Double, from started: UInt64, seconds: Double,
        into recorder: OverloadRecorder
    ) async {
        let interval = 1e9 / rate
        let total = Int(rate * seconds)
        var sent = 0
        var jobs = 0
        await withDiscardingTaskGroup { group in
            while sent < total {
                let now = MonotonicClock.nowNanoseconds()
                let due = min(total, Int(Double(now - started) / interval) + 1)
                if sent < due { recorder.lag(Int64(now) - Int64(started) - Int64(Double(sent) * interval)) }
                while sent < due {
                    let index = sent
                    sent += 1
                    let client = clients[index % clients.count]
                    if mix.isCall(index) {
                        guard recorder.enter(call: true) else { continue }
                        group.addTask(executorPreference: client.executor) {
                            let begin = MonotonicClock.nowNanoseconds()
                            do throws(GridError) {
                                _ = try await work.call(client)
                                recorder.call(.success(MonotonicClock.nowNanoseconds() - begin))
                            } catch {
                                recorder.call(.failure(error))
                            }
                        }
                    } else {
                        let options = mix.options(job: jobs)
                        jobs += 1
                        guard recorder.enter(call: false) else { continue }
                        group.addTask(executorPreference: client.executor) {
                            do throws(GridError) {
                                let id = try await client.submit(work.function, work.payload, options: options)
                                recorder.submitted(.success(id))
                            } catch {
                                recorder.submitted(.failure(error))
                            }
                        }
                    }
                }
                if sent < total { try? await Task.sleep(for: .milliseconds(1)) }
            }
        }
    }

    /// Whether any job submitted by `clients` is still queued, scheduled, running or deferred.
    private static func anyUnfinished(_ control: GridClient, _ clients: [GridClient]) async throws -> Bool {
        for client in clients {
            let left = try await control.jobs(
                JobQuery(states: ["queued", "scheduled", "running", "deferred"], tag: client.originTag, limit: 1))
            if !left.isEmpty { return true }
        }
        return false
    }

    /// The final state of every accepted job, read back from the broker's store.
    private static func check(_ accepted: [UInt64], _ control: GridClient, _ clients: [GridClient]) async throws -> JobOutcome {
        var states: [UInt64: String] = [:]
        for client in clients {
            var after: UInt64?
            while true {
                let page = try await control.jobs(JobQuery(tag: client.originTag, limit: 10_000, afterID: after))
                guard let last = page.last else { break }
                for job in page { states[job.id] = job.state }
                after = last.id
            }
        }
        var outcome = JobOutcome()
        for id in accepted {
            switch states[id] {
            case "succeeded": outcome.succeeded += 1
            case "failed", "dead", "cancelled": outcome.failed += 1
            case nil: outcome.lost += 1
            default: outcome.unfinished += 1
            }
        }
        return outcome
    }
}

/// The operations of the benchmark: background calls and jobs, and the probe.
struct Workload: Sendable {
    /// The background function.
    let function: String
    /// Its payload.
    let payload: [UInt8]
    /// The priority of background calls.
    let callPriority: Int
    /// The time limit of a background call.
    let callTimeout: Duration
    /// The probe's function.
    let probeFunction: String
    /// The probe's payload.
    let probePayload: [UInt8]
    /// The probe's priority.
    let probePriority: Int
    /// The time limit of a probe call.
    let probeTimeout: Duration

    /// One background call.
    func call(_ client: GridClient) async throws(GridError) -> [UInt8] {
        try await client.call(function, payload, timeout: callTimeout, priority: callPriority)
    }

    /// One probe call.
    func probe(_ client: GridClient) async throws(GridError) {
        _ = try await client.call(probeFunction, probePayload, timeout: probeTimeout, priority: probePriority)
    }
}

/// How the offered operations divide into calls and jobs.
struct Mix: Sendable {
    /// The share of calls, 0 to 1.
    let callShare: Double
    /// The jobs' priorities, taken in turn.
    let jobPriorities: [Int]
    /// Whether jobs are sheddable.
    let sheddable: Bool

    /// Whether operation `index` is a call: spread evenly, `callShare` of every run of operations.
    func isCall(_ index: Int) -> Bool {
        (Double(index + 1) * callShare).rounded(.down) > (Double(index) * callShare).rounded(.down)
    }

    /// The options of the `index`th job.
    func options(job index: Int) -> JobOptions {
        JobOptions(priority: jobPriorities[index % jobPriorities.count], sheddable: sheddable)
    }
}

/// Calls completed and failed in the calibration loop.
final class CalibrationCounts: Sendable {
    /// Calls that succeeded.
    let completed = Atomic<Int>(0)
    /// Calls that failed.
    let failed = Atomic<Int>(0)
}

/// The final states of the accepted jobs.
struct JobOutcome: Sendable {
    /// Finished with a result.
    var succeeded = 0
    /// Dead-lettered, failed or cancelled.
    var failed = 0
    /// Still queued, scheduled, running or deferred.
    var unfinished = 0
    /// Unknown to the broker.
    var lost = 0

    /// Every accepted job succeeded.
    var allSucceeded: Bool { failed == 0 && unfinished == 0 && lost == 0 }
}

/// Latencies of succeeded probe calls, and counts of the failed ones.
final class ProbeRecorder: Sendable {
    /// What the probe saw.
    struct State {
        /// Latencies of succeeded calls, in nanoseconds.
        var histogram = Histogram<UInt64>(highestTrackableValue: 120_000_000_000, numberOfSignificantValueDigits: .three)
        /// Calls answered BUSY.
        var busy = 0
        /// Calls failed otherwise.
        var errors = 0
        /// The first other failure.
        var firstError: String?
    }

    private let protected = Mutex(State())

    /// Records a succeeded call.
    func succeeded(_ nanoseconds: UInt64) { _ = protected.withLock { $0.histogram.record(nanoseconds) } }

    /// Records a BUSY answer.
    func busy() { protected.withLock { $0.busy += 1 } }

    /// Records another failure.
    func failed(_ error: GridError) {
        protected.withLock { state in
            state.errors += 1
            if state.firstError == nil { state.firstError = error.description }
        }
    }

    /// A copy of the state.
    func state() -> State { protected.withLock { $0 } }

    /// Count, p50, p99 and failures, for the progress line.
    func line() -> String {
        protected.withLock { state in
            String(
                format: "%d calls p50 %.0f µs p99 %.0f µs, %d busy %d errors", state.histogram.totalCount,
                Double(state.histogram.valueAtPercentile(50)) / 1000, Double(state.histogram.valueAtPercentile(99)) / 1000, state.busy,
                state.errors)
        }
    }
}

/// What the overload phase's background calls and submits came to, shared by their tasks.
final class OverloadRecorder: Sendable {
    /// The counts.
    struct Counts {
        /// Operations started or dropped.
        var sent = 0
        /// Calls started.
        var callsSent = 0
        /// Submits started.
        var jobsSent = 0
        /// Operations dropped because `cap` were in flight.
        var dropped = 0
        /// Operations in flight.
        var inFlight = 0
        /// Calls that succeeded.
        var callsOK = 0
        /// Calls answered BUSY.
        var callsBusy = 0
        /// Calls past their time limit.
        var callsTimeout = 0
        /// Calls failed otherwise.
        var callsFailed = 0
        /// Submits answered BUSY.
        var jobsBusy = 0
        /// Submits failed otherwise.
        var jobsFailed = 0
        /// The ids of accepted jobs.
        var accepted: [UInt64] = []
        /// Latencies of succeeded calls, in nanoseconds.
        var callLatency = Histogram<UInt64>(highestTrackableValue: 120_000_000_000, numberOfSignificantValueDigits: .three)
        /// The first failure other than BUSY or a timeout.
        var firstError: String?
        /// How late the generator started an operation at worst, in nanoseconds.
        var maxLag: Int64 = 0
    }

    /// The most operations in flight.
    let cap: Int
    private let protected = Mutex(Counts())

    /// A recorder allowing `cap` operations in flight.
    init(cap: Int) { self.cap = cap }

    /// Counts a scheduled operation; false (counted as dropped) when `cap` are in flight.
    func enter(call: Bool) -> Bool {
        protected.withLock { counts in
            counts.sent += 1
            guard counts.inFlight < cap else {
                counts.dropped += 1
                return false
            }
            counts.inFlight += 1
            if call { counts.callsSent += 1 } else { counts.jobsSent += 1 }
            return true
        }
    }

    /// Records how late the generator started an operation, in nanoseconds.
    func lag(_ nanoseconds: Int64) { protected.withLock { $0.maxLag = max($0.maxLag, nanoseconds) } }

    /// Records a finished call: its latency, or its error.
    func call(_ result: Result<UInt64, GridError>) {
        protected.withLock { counts in
            counts.inFlight -= 1
            switch result {
            case .success(let nanoseconds):
                counts.callsOK += 1
                counts.callLatency.record(nanoseconds)
            case .failure(.busy): counts.callsBusy += 1
            case .failure(.timeout): counts.callsTimeout += 1
            case .failure(let error):
                counts.callsFailed += 1
                if counts.firstError == nil { counts.firstError = error.description }
            }
        }
    }

    /// Records a finished submit: the accepted job's id, or its error.
    func submitted(_ result: Result<UInt64, GridError>) {
        protected.withLock { counts in
            counts.inFlight -= 1
            switch result {
            case .success(let id): counts.accepted.append(id)
            case .failure(.busy): counts.jobsBusy += 1
            case .failure(let error):
                counts.jobsFailed += 1
                if counts.firstError == nil { counts.firstError = error.description }
            }
        }
    }

    /// A copy of the counts.
    func counts() -> Counts { protected.withLock { $0 } }

    /// The progress line's part.
    func line() -> String {
        protected.withLock { counts in
            String(
                format: "sent %d (%d in flight, %d dropped) calls ok %d busy %d timeout %d | jobs accepted %d busy %d", counts.sent,
                counts.inFlight, counts.dropped, counts.callsOK, counts.callsBusy, counts.callsTimeout, counts.accepted.count,
                counts.jobsBusy)
        }
    }
}

/// A live progress line on standard error (carriage return, redrawn every half second).
enum Progress {
    /// Runs `body` while redrawing `line()`; draws it a last time and ends it when `body` returns.
    static func during<T>(_ line: @escaping @Sendable () async -> String, _ body: () async throws -> T) async throws -> T {
        let task = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(500))
                guard !Task.isCancelled else { break }
                FileHandle.standardError.write(Data(("\r" + (await line()) + "   ").utf8))
            }
        }
        let result: Result<T, any Error>
        do { result = .success(try await body()) } catch { result = .failure(error) }
        task.cancel()
        await task.value
        FileHandle.standardError.write(Data(("\r" + (await line()) + "   \n").utf8))
        return try result.get()
    }
}
