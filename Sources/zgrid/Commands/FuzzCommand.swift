import ArgumentParser
import Foundation
import Synchronization
import ZGridClient
import ZGridProtocol

/// `zgrid fuzz`: sends random and mutated messages at a running broker while real calls run, then
/// checks that the broker survived them: it still answers, every real call got the right answer,
/// the fuzzer's peers and calls are forgotten, and (with `--broker-pid`) its memory came back down.
struct FuzzCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz",
        abstract: "Fuzz a running broker with random and mutated ZGC01/ZGW01/MDP messages while checked calls run.",
        discussion: """
            Needs a broker with at least one worker serving --function as an echo (`zgrid worker --function echo`). \
            The messages are the same for the same --seed. Exits 1 when a check fails.
            """)

    @OptionGroup var common: CommonOptions

    @Option(name: .long, help: "The broker endpoint; defaults to [broker] connect.")
    var connect: String?

    @Option(name: .long, help: "How many messages to send.")
    var messages: Int = 100_000

    @Option(name: .long, help: "Seed of the message generator.")
    var seed: UInt64 = 1

    @Option(name: .long, help: "A function real workers serve as an echo; checked calls go to it, and the fuzzer never registers for it.")
    var function: String = "echo"

    @Option(name: .long, help: "Checked calls kept in flight during the fuzzing.")
    var callers: Int = 4

    @Option(name: .long, help: "The broker's frame limit (max_message_bytes); defaults to the config's.")
    var maxMessageBytes: Int?

    @Option(name: .long, help: "The broker's process id: check its resident memory (VmRSS) before and after.")
    var brokerPid: Int32?

    @Option(name: .long, help: "How much the broker's resident memory may grow, in MiB.")
    var rssSlackMib: Int = 64

    @Option(
        name: .long,
        help: "How long the broker may take to forget the fuzzer's peers and calls, in seconds (default: from the heartbeat settings).")
    var settleSeconds: Double?

    @Flag(name: .long, help: "Only generate the messages and print a digest of them (to check that a seed repeats).")
    var dryRun = false

    func run() async throws {
        let config = try common.loadConfig()
        let logger = try common.bootstrapLogging(config, label: "zgrid.fuzz", defaultLevel: "error")
        guard messages >= 0, callers >= 1, FunctionName.isValid(function) else {
            throw ValidationError("--messages must be 0 or more, --callers at least 1, --function a valid function name")
        }
        let limit = maxMessageBytes ?? config.broker.maxMessageBytes
        var generator = FuzzGenerator(seed: seed, maxMessageBytes: limit, protected: [function], realFunction: function)
        if dryRun {
            print(FuzzDigest.of(&generator, messages: messages))
            return
        }
        let heartbeat = config.broker.heartbeat
        let endpoint = connect ?? config.broker.connect
        let client = try GridClient(broker: endpoint, heartbeat: heartbeat, logger: logger)
        var report = FuzzReport()

        // Before: the grid answers, warmed up; the baseline of workers, counters and memory.
        try await waitForGrid(client)
        for index in 0..<500 { _ = try await client.call(function, Array("warm-up \(index)".utf8), timeout: .seconds(10)) }
        let before = try await client.brokerStatus()
        let realWorkers = Set(before.workers.map(\.id))
        let rssStart = brokerPid.flatMap(residentBytes(of:))

        // During: the fuzzer on its own thread; checked calls and a memory sampler alongside.
        let flags = RunFlags(peak: rssStart ?? 0)
        let checked = CheckedCalls()
        let (function, callers, brokerPid, messages, seed) = (self.function, self.callers, self.brokerPid, self.messages, self.seed)
        let streams = (0..<callers).map { caller in
            Task { await checked.run(client, function: function, caller: caller, until: flags) }
        }
        let sampler = Task {
            while !flags.stopped {
                if let pid = brokerPid, let rss = residentBytes(of: pid) { flags.notePeak(rss) }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        let started = Date()
        report.line("zgrid fuzz: \(messages) messages at \(endpoint), seed \(seed), frame limit \(limit) bytes, \(callers) checked callers")
        let tally = try await runSender(endpoint: endpoint, generator: generator, messages: messages, realFunction: function)
        let elapsed = Date().timeIntervalSince(started)
        try? await Task.sleep(for: .milliseconds(300))
        flags.stop()
        for stream in streams { await stream.value }
        await sampler.value
        report.describe(tally, elapsed: elapsed)

        // After: the checks.
        if let pid = brokerPid {
            report.check("broker process \(pid) is alive", kill(pid, 0) == 0)
        }
        report.check(
            "\(tally.sent) of \(messages) messages sent", tally.failure == nil && tally.sent == messages, detail: tally.failure)
        // A pacing call may be lost only with a reconnect of the client socket (one in 4,500 steps).
        let unanswered = tally.paced - tally.pacedAnswered - tally.pacedWrong
        report.check(
            "\(tally.paced) pacing calls from the fuzzer's client socket answered with their own payload",
            tally.pacedWrong == 0 && unanswered <= tally.paced / 100 + 2,
            detail: tally.pacedProblem ?? "\(unanswered) unanswered")
        let outcome = checked.outcome
        report.check(
            "\(outcome.calls) checked calls to '\(function)' during the fuzzing, each answered with its own payload",
            outcome.calls > 0 && outcome.wrong == 0 && outcome.failed == 0,
            detail:
                "\(outcome.wrong) wrong, \(outcome.failed) failed\(outcome.firstProblem.map { "; first: \($0)" } ?? ""); latency \(outcome.latencySummary)"
        )
        do {
            let reply = try await client.call(function, Array("after the fuzz".utf8), timeout: .seconds(10))
            _ = try await client.brokerStatus()
            report.check("the broker answers a call and a status request after the fuzzing", reply == Array("after the fuzz".utf8))
        } catch {
            report.check("the broker answers a call and a status request after the fuzzing", false, detail: "\(error)")
        }
        let settleLimit =
            settleSeconds ?? Double(4 * heartbeat.expiryMilliseconds + Int64(config.broker.unknownFunctionGraceMs)) / 1000 + 10
        let settled = try await waitForQuiet(client, realWorkers: realWorkers, seconds: settleLimit)
        report.check(
            "within \(Int(settleLimit)) s the fuzzer's workers are gone, the \(realWorkers.count) real one(s) are still registered, and no call is queued or running",
            settled.ok, detail: settled.detail)
        if let pid = brokerPid, let rssStart {
            try? await Task.sleep(for: .milliseconds(500))
            let rssEnd = residentBytes(of: pid) ?? Int.max
            let slack = rssSlackMib << 20
            report.check(
                "broker resident memory back near its start: start \(mib(rssStart)), peak \(mib(flags.peak)), end \(mib(rssEnd)) (limit start + \(rssSlackMib) MiB)",
                rssEnd <= rssStart + slack)
        }
        if let after = try? await client.brokerStatus() {
            let keys = [
                "malformed_messages", "protocol_violations", "unknown_worker_messages", "calls_received", "calls_succeeded", "calls_failed",
                "parts_succeeded", "parts_failed",
                "scatters_received",
                "jobs_accepted", "workers_joined", "workers_lost",
            ]
            let deltas = keys.map { "\($0) +\((after.counters[$0] ?? 0) - (before.counters[$0] ?? 0))" }
            report.line("broker counters: " + deltas.joined(separator: ", "))
        }
        await client.close()
        report.finish()
        if report.failures > 0 { throw ExitCode(1) }
    }

    /// Runs the sender on a thread of its own and returns its tally.
    private func runSender(endpoint: String, generator: FuzzGenerator, messages: Int, realFunction: String) async throws -> FuzzTally {
        let result = Mutex<Result<FuzzTally, any Error>?>(nil)
        let sendable = SendableGenerator(generator)
        let thread = IOThread(name: "zgrid-fuzz") {
            do {
                let sender = try FuzzSender(endpoint: endpoint, realFunction: realFunction)
                var generator = sendable.generator
                let started = Date()
                let tally = sender.run(&generator, messages: messages) { tally in
                    let rate = Double(tally.sent) / max(0.001, Date().timeIntervalSince(started))
                    FileOutput.standardError("  \(tally.sent) messages sent (\(Int(rate))/s)")
                }
                result.withLock { $0 = .success(tally) }
            } catch {
                result.withLock { $0 = .failure(error) }
            }
        }
        await thread.finished()
        return try result.withLock { $0! }.get()
    }

    /// Waits up to 30 s for `function` to answer.
    private func waitForGrid(_ client: GridClient) async throws {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if (try? await client.call(function, Array("ping".utf8), timeout: .seconds(2))) == Array("ping".utf8) { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw ValidationError(
            "'\(function)' does not answer with its payload at \(client.broker): start a broker and `zgrid worker --function echo`")
    }

    /// Polls the broker's status until only the real workers are registered and no call is queued
    /// or running, or `seconds` pass.
    private func waitForQuiet(_ client: GridClient, realWorkers: Set<String>, seconds: Double) async throws -> (ok: Bool, detail: String) {
        let deadline = Date().addingTimeInterval(seconds)
        var detail = ""
        while Date() < deadline {
            if let status = try? await client.brokerStatus() {
                let workers = Set(status.workers.map(\.id))
                let busy = status.functions.filter { $0.inFlight > 0 || $0.queuedCalls > 0 }
                detail =
                    "workers \(workers.sorted()) (real: \(realWorkers.sorted())); busy functions: "
                    + busy.map { "\($0.name) running \($0.inFlight) queued \($0.queuedCalls)" }.joined(separator: ", ")
                if workers == realWorkers && busy.isEmpty { return (true, detail) }
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        return (false, detail)
    }
}

/// The stop flag of a fuzz run's checked calls and the peak of the broker's memory seen so far.
final class RunFlags: Sendable {
    private let done = Atomic<Bool>(false)
    private let highest: Atomic<Int>

    init(peak: Int) { highest = Atomic(peak) }

    var stopped: Bool { done.load(ordering: .relaxed) }
    func stop() { done.store(true, ordering: .relaxed) }
    var peak: Int { highest.load(ordering: .relaxed) }
    func notePeak(_ value: Int) {
        var current = highest.load(ordering: .relaxed)
        while value > current {
            let (exchanged, original) = highest.compareExchange(expected: current, desired: value, ordering: .relaxed)
            if exchanged { return }
            current = original
        }
    }
}

/// Carries a generator to the sender's thread (it is a value; the copy is the thread's own).
private struct SendableGenerator: @unchecked Sendable {
    // @unchecked: FuzzGenerator holds only values; the thread gets its own copy.
    let generator: FuzzGenerator
    init(_ generator: FuzzGenerator) { self.generator = generator }
}

/// Checked calls made during a fuzz run: each carries a unique payload and must come back unchanged.
final class CheckedCalls: Sendable {
    struct Outcome {
        var calls = 0
        var wrong = 0
        var failed = 0
        var firstProblem: String?
        var latencies: [UInt64] = []

        /// p50, p99 and max latency.
        var latencySummary: String {
            guard !latencies.isEmpty else { return "none" }
            let sorted = latencies.sorted()
            func at(_ fraction: Double) -> String {
                String(format: "%.1f ms", Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]) / 1e6)
            }
            return "p50 \(at(0.5)), p99 \(at(0.99)), max \(at(1))"
        }
    }

    private let state = Mutex(Outcome())

    var outcome: Outcome { state.withLock { $0 } }

    /// Calls `function` in a loop until `stop`, recording each outcome.
    func run(_ client: GridClient, function: String, caller: Int, until flags: RunFlags) async {
        var index = 0
        while !flags.stopped {
            index += 1
            let payload =
                Array("checked \(caller).\(index) ".utf8) + [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: index % 200)
            let started = MonotonicClock.nowNanoseconds()
            let result: Result<[UInt8], GridError>
            do { result = .success(try await client.call(function, payload, timeout: .seconds(20))) } catch { result = .failure(error) }
            let elapsed = MonotonicClock.nowNanoseconds() - started
            state.withLock { outcome in
                outcome.calls += 1
                outcome.latencies.append(elapsed)
                switch result {
                case .success(let reply) where reply == payload: break
                case .success(let reply):
                    outcome.wrong += 1
                    if outcome.firstProblem == nil {
                        outcome.firstProblem = "call \(caller).\(index) got \(reply.count) bytes that are not its payload"
                    }
                case .failure(let error):
                    outcome.failed += 1
                    if outcome.firstProblem == nil { outcome.firstProblem = "call \(caller).\(index) failed: \(error)" }
                }
            }
        }
    }
}

/// The printed report of a fuzz run: what was sent, then one line per check.
struct FuzzReport {
    private(set) var failures = 0
    private var checks = 0

    mutating func describe(_ tally: FuzzTally, elapsed: Double) {
        line(
            String(
                format:
                    "sent %d messages in %.1f s (%.0f/s): %d mutated, %d with a frame over the limit, %d reconnects, %d requests answered",
                tally.sent, elapsed, Double(tally.sent) / max(elapsed, 0.001), tally.mutated, tally.oversized, tally.reconnects,
                tally.requestsAnswered))
        line("  by family: " + tally.families.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        line("  received: " + tally.received.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
    }

    mutating func check(_ what: String, _ passed: Bool, detail: String? = nil) {
        checks += 1
        if !passed { failures += 1 }
        line("check: \(what): \(passed ? "ok" : "FAILED")" + (detail.map { " (\($0))" } ?? ""))
    }

    func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    func finish() {
        line(failures == 0 ? "result: all \(checks) checks passed" : "result: \(failures) of \(checks) checks FAILED")
    }
}

/// A digest of a generator's first messages, to show that a seed gives the same messages every time.
enum FuzzDigest {
    /// FNV-1a over every step: persona, frame sizes and bytes; reconnects count too.
    static func of(_ generator: inout FuzzGenerator, messages: Int) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ byte: UInt8) {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        var sent = 0
        var bytes = 0
        while sent < messages {
            switch generator.next() {
            case .reconnect(let persona):
                mix(0xFF)
                mix(UInt8(persona.rawValue))
            case .send(let message):
                sent += 1
                mix(UInt8(message.persona.rawValue))
                for frame in message.frames {
                    bytes += frame.count
                    for shift in stride(from: 0, to: 32, by: 8) { mix(UInt8(truncatingIfNeeded: frame.count >> shift)) }
                    for byte in frame { mix(byte) }
                }
            }
        }
        return "digest \(String(hash, radix: 16)) of \(sent) messages, \(bytes) bytes"
    }
}

/// The resident set size of process `pid` (VmRSS in /proc/PID/status), in bytes.
func residentBytes(of pid: Int32) -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        let digits = line.dropFirst("VmRSS:".count).filter(\.isNumber)
        return Int(digits).map { $0 * 1024 }
    }
    return nil
}

private func mib(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
