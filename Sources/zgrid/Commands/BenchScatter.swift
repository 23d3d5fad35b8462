import ArgumentParser
import Foundation
import Histogram
import ZGridClient
import ZGridProtocol

/// `zgrid bench scatter`: a sharded function's scatter/gather against single calls of it, side by side.
struct BenchScatter: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scatter",
        abstract: "Time single calls and full scatters of a sharded function one at a time and kept in flight; print the ratios.")

    @OptionGroup var common: CommonOptions

    @Option(name: .long, help: "The broker endpoint; defaults to [broker] connect.")
    var connect: String?

    @Option(name: .long, help: "A sharded function (for example echo or search from workers started with --shards).")
    var function: String = "echo"

    @Option(name: .long, help: "The query text.")
    var payload: String = "kalo"

    @Option(name: .long, help: "Operations timed one at a time, for each kind.")
    var sync: Int = 2000

    @Option(name: .long, help: "Operations kept in flight in the throughput phase.")
    var pipeline: Int = 32

    @Option(name: .long, help: "Seconds of each throughput phase.")
    var seconds: Double = 3

    func run() async throws {
        let config = try common.loadConfig()
        let logger = try common.bootstrapLogging(config, label: "zgrid.bench", defaultLevel: "warning")
        let client = try common.client(config, connect: connect, logger: logger)
        let query = Array(payload.utf8)
        let (function, sync, pipeline, seconds) = (self.function, self.sync, self.pipeline, self.seconds)
        let shards = try await client.scatter(function, query).gathered().parts.count
        guard shards > 1 else {
            throw ValidationError("'\(function)' answered a scatter with \(shards) parts: start its workers with --shards")
        }
        let call: @Sendable () async throws -> Void = { _ = try await client.call(function, query) }
        let gather: @Sendable () async throws -> Void = {
            let result = try await client.scatter(function, query).gathered()
            guard result.isComplete else { throw GridError.internal("incomplete scatter: \(result.failures)") }
        }
        for _ in 0..<min(200, sync) { try await call(); try await gather() }
        let callLatency = try await Self.latency(sync, call)
        let scatterLatency = try await Self.latency(sync, gather)
        let callRate = try await Self.throughput(seconds: seconds, inFlight: pipeline, call)
        let scatterRate = try await Self.throughput(seconds: seconds, inFlight: pipeline, gather)
        await client.close()
        print("function=\(function) shards=\(shards)")
        print(
            "single call: p50 \(formatMicroseconds(callLatency.valueAtPercentile(50))) µs, p99 \(formatMicroseconds(callLatency.valueAtPercentile(99))) µs, \(String(format: "%.0f", callRate)) calls/s with \(pipeline) in flight"
        )
        print(
            "scatter/gather: p50 \(formatMicroseconds(scatterLatency.valueAtPercentile(50))) µs, p99 \(formatMicroseconds(scatterLatency.valueAtPercentile(99))) µs, \(String(format: "%.0f", scatterRate)) gathered queries/s with \(pipeline) in flight"
        )
        let latencyRatio = Double(scatterLatency.valueAtPercentile(50)) / Double(max(1, callLatency.valueAtPercentile(50)))
        let rateRatio = scatterRate / max(1, callRate)
        print(String(format: "ratio scatter/call p50: %.2f (target <= 3.00) %@", latencyRatio, latencyRatio <= 3 ? "PASS" : "MISS"))
        print(String(format: "ratio scatter/call throughput: %.3f (target >= 0.080) %@", rateRatio, rateRatio >= 0.08 ? "PASS" : "MISS"))
    }

    private static func latency(_ count: Int, _ operation: @Sendable () async throws -> Void) async throws -> Histogram<UInt64> {
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        for _ in 0..<count {
            let started = MonotonicClock.nowNanoseconds()
            try await operation()
            histogram.record(MonotonicClock.nowNanoseconds() - started)
        }
        return histogram
    }

    private static func throughput(seconds: Double, inFlight: Int, _ operation: @escaping @Sendable () async throws -> Void) async throws
        -> Double
    {
        let deadline = MonotonicClock.nowNanoseconds() + UInt64(seconds * 1e9)
        let started = MonotonicClock.nowNanoseconds()
        let done = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<inFlight {
                group.addTask {
                    var count = 0
                    while MonotonicClock.nowNanoseconds() < deadline {
                        try await operation()
                        count += 1
                    }
                    return count
                }
            }
            return try await group.reduce(0, +)
        }
        return Double(done) / (Double(MonotonicClock.nowNanoseconds() - started) / 1e9)
    }
}
