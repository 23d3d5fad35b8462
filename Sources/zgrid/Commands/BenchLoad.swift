import ArgumentParser
import Foundation
import Histogram
import Synchronization
import ZGridClient
import ZGridProtocol

/// `zgrid bench load`: drives a running cluster for a set time and reports latency percentiles.
struct BenchLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Drive a running cluster for a while with calls (or scatters) kept in flight; print p50/p99/p99.9 and throughput.")

    @OptionGroup var common: CommonOptions

    @Option(name: .long, help: "The broker endpoint; defaults to [broker] connect.")
    var connect: String?

    @Option(name: .long, help: "The function to call.")
    var function: String = "echo"

    @Option(name: .long, help: "The payload text; default: --size bytes of 'a'.")
    var payload: String?

    @Option(name: .long, help: "Payload size in bytes when no --payload is given.")
    var size: Int = 64

    @Option(name: .long, help: "How long to run, in seconds.")
    var duration: Double = 10

    @Option(name: .long, help: "Calls (or scatters) kept in flight.")
    var concurrency: Int = 16

    @Flag(name: .long, help: "Scatter each query over every shard of the function instead of calling it.")
    var scatter = false

    @Option(name: .long, help: "Time limit of each call in milliseconds.")
    var timeoutMs: Int = 10_000

    func run() async throws {
        let config = try common.loadConfig()
        let logger = try common.bootstrapLogging(config, label: "zgrid.bench", defaultLevel: "warning")
        guard duration > 0, concurrency >= 1 else { throw ValidationError("--duration and --concurrency must be positive") }
        let client = try common.client(config, connect: connect, logger: logger)
        let bytes = payload.map { Array($0.utf8) } ?? [UInt8](repeating: 0x61, count: size)
        let recorder = LatencyRecorder()
        let deadline = MonotonicClock.nowNanoseconds() + UInt64(duration * 1e9)
        let started = MonotonicClock.nowNanoseconds()
        let progress = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(500))
                let (count, errors, p50, p99) = recorder.progress()
                let elapsed = Double(MonotonicClock.nowNanoseconds() - started) / 1e9
                let line = String(
                    format: "\r[%5.1fs] %9d done %6d errors %9.0f/s  p50 %7.0f µs  p99 %7.0f µs ", elapsed, count, errors,
                    Double(count) / max(elapsed, 0.001), Double(p50) / 1000, Double(p99) / 1000)
                FileHandle.standardError.write(Data(line.utf8))
            }
        }
        let (function, scatter, timeoutMs) = (self.function, self.scatter, self.timeoutMs)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    while MonotonicClock.nowNanoseconds() < deadline {
                        let begin = MonotonicClock.nowNanoseconds()
                        var failure: String?
                        if scatter {
                            do {
                                let result = try await client.scatter(function, bytes, timeout: .milliseconds(timeoutMs)).gathered()
                                if let error = result.error {
                                    failure = "\(error)"
                                } else if !result.isComplete {
                                    failure = "scatter incomplete: " + (result.failures.values.first?.description ?? "parts missing")
                                }
                            } catch { failure = "\(error)" }
                        } else {
                            do { _ = try await client.call(function, bytes, timeout: .milliseconds(timeoutMs)) } catch {
                                failure = "\(error)"
                            }
                        }
                        recorder.record(MonotonicClock.nowNanoseconds() - begin, failure: failure)
                    }
                }
            }
        }
        progress.cancel()
        let seconds = Double(MonotonicClock.nowNanoseconds() - started) / 1e9
        await client.close()
        FileHandle.standardError.write(Data("\n".utf8))
        print(recorder.summary(seconds: seconds, what: scatter ? "scatters" : "calls"))
        let (count, errors, _, _) = recorder.progress()
        if errors > 0 {
            for (message, times) in recorder.commonErrors() { print("  \(times) × \(message)") }
        }
        if count > 0 && errors == count {
            FileHandle.standardError.write(Data("zgrid bench load: every \(scatter ? "scatter" : "call") failed\n".utf8))
            throw ExitCode.failure
        }
    }
}

/// Latencies recorded by many tasks into one HdrHistogram.
final class LatencyRecorder: Sendable {
    private struct State {
        var histogram = Histogram<UInt64>(highestTrackableValue: 120_000_000_000, numberOfSignificantValueDigits: .three)
        var errors = 0
        /// How often each error message was seen (at most ``maxErrorKinds`` messages; later ones count as one).
        var errorKinds: [String: Int] = [:]
    }

    /// The most distinct error messages kept; messages often carry ids, so they can vary without end.
    private static let maxErrorKinds = 50

    private let state = Mutex(State())

    /// Records one operation's latency in nanoseconds, and why it failed, if it did.
    func record(_ nanoseconds: UInt64, failure: String?) {
        state.withLock { state in
            state.histogram.record(nanoseconds)
            guard let failure else { return }
            state.errors += 1
            let key = state.errorKinds[failure] != nil || state.errorKinds.count < Self.maxErrorKinds ? failure : "(other errors)"
            state.errorKinds[key, default: 0] += 1
        }
    }

    /// The five most frequent error messages, with how often each was seen.
    func commonErrors() -> [(message: String, times: Int)] {
        state.withLock { state in
            state.errorKinds.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(5).map { ($0.key, $0.value) }
        }
    }

    /// Count, errors, p50 and p99 (nanoseconds) so far.
    func progress() -> (Int, Int, UInt64, UInt64) {
        state.withLock { state in
            (Int(state.histogram.totalCount), state.errors, state.histogram.valueAtPercentile(50), state.histogram.valueAtPercentile(99))
        }
    }

    /// The final report.
    func summary(seconds: Double, what: String) -> String {
        state.withLock { state in
            let h = state.histogram
            return
                "\(h.totalCount) \(what) in \(String(format: "%.1f", seconds)) s (\(String(format: "%.0f", Double(h.totalCount) / seconds))/s), "
                + "\(state.errors) errors; latency µs: p50 \(formatMicroseconds(h.valueAtPercentile(50))), p99 \(formatMicroseconds(h.valueAtPercentile(99))), "
                + "p99.9 \(formatMicroseconds(h.valueAtPercentile(99.9))), max \(formatMicroseconds(h.max))"
        }
    }
}
