import ArgumentParser
import Foundation
import Histogram
import Synchronization
import ZGridClient
import ZGridProtocol

/// `zgrid bench`: load generators against a running broker.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Measure a running cluster.",
        subcommands: [RPCBench.self, BenchLoad.self, BenchScatter.self, BenchJobs.self, BenchOverload.self])
}

/// `zgrid bench rpc`: synchronous round trips, then pipelined calls, of one function.
struct RPCBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rpc",
        abstract: "Time synchronous calls one at a time, then calls kept in flight, and print one key=value line.")

    @OptionGroup var common: CommonOptions

    @Option(name: .long, help: "The broker endpoint; defaults to [broker] connect.")
    var connect: String?

    @Option(name: .long, help: "The function to call.")
    var function: String = "echo"

    @Option(name: .long, help: "Payload size in bytes.")
    var size: Int = 64

    @Option(name: .long, help: "Synchronous calls to time (after a warm-up of a tenth, at most 1000).")
    var sync: Int = 20_000

    @Option(name: .long, help: "Calls kept in flight in the pipelined phase.")
    var pipeline: Int = 200

    @Option(name: .long, help: "Calls to complete in the pipelined phase.")
    var pipelinedCalls: Int = 200_000

    @Option(
        name: .long,
        help: """
            How the calls are made: pool (tasks on Swift's global executor), client (tasks on the client's I/O thread \
            executor), or each (the fastest documented way for each phase: synchronous calls from a task on the client's \
            executor, pipelined calls as one callEach run).
            """)
    var callers: String = "pool"

    func run() async throws {
        let config = try common.loadConfig()
        let logger = try common.bootstrapLogging(config, label: "zgrid.bench")
        let client = try common.client(config, connect: connect, logger: logger)
        let executor: (any TaskExecutor)?
        switch callers {
        case "pool": executor = nil
        case "client": executor = client.executor
        case "each": executor = client.executor
        default: throw ValidationError("bad --callers '\(callers)': expected pool, client or each")
        }
        let line = try await withTaskExecutorPreference(executor) { try await measure(client, executor: executor) }
        await client.close()
        print(line)
    }

    private func measure(_ client: GridClient, executor: (any TaskExecutor)?) async throws -> String {
        let payload = [UInt8](repeating: 0x61, count: size)
        for _ in 0..<min(1000, sync / 10) { _ = try await client.call(function, payload) }
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        var total: UInt64 = 0
        for _ in 0..<sync {
            let started = MonotonicClock.nowNanoseconds()
            _ = try await client.call(function, payload)
            let elapsed = MonotonicClock.nowNanoseconds() - started
            histogram.record(elapsed)
            total += elapsed
        }
        let started = MonotonicClock.nowNanoseconds()
        if callers == "each" {
            try await pipelineEach(client, payload: payload)
        } else {
            try await pipelineTasks(client, payload: payload, executor: executor)
        }
        let seconds = Double(MonotonicClock.nowNanoseconds() - started) / 1e9
        return
            ("impl=zgrid callers=\(callers) sync_calls=\(sync) sync_p50_us=\(formatMicroseconds(histogram.valueAtPercentile(50), digits: 2)) "
            + "sync_p99_us=\(formatMicroseconds(histogram.valueAtPercentile(99), digits: 2)) sync_mean_us=\(formatMicroseconds(sync > 0 ? total / UInt64(sync) : 0, digits: 2)) "
            + "pipelined_calls=\(pipelinedCalls) pipeline=\(pipeline) pipelined_cps=\(String(format: "%.2f", Double(pipelinedCalls) / seconds))")
    }

    /// The pipelined phase as one ``GridClient/callEach(_:_:inFlight:timeout:idempotent:priority:)`` run.
    private func pipelineEach(_ client: GridClient, payload: [UInt8]) async throws {
        let inputs = repeatElement(payload, count: pipelinedCalls)
        for try await outcome in try client.callEach(function, inputs, inFlight: pipeline) { _ = try outcome.result.get() }
    }

    /// The pipelined phase as `pipeline` tasks, each calling in a loop.
    private func pipelineTasks(_ client: GridClient, payload: [UInt8], executor: (any TaskExecutor)?) async throws {
        let remaining = SharedCounter(pipelinedCalls)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<pipeline {
                let caller: @Sendable () async throws -> Void = {
                    while remaining.takeOne() {
                        _ = try await client.call(function, payload)
                    }
                }
                // Pool callers are plain child tasks: a task created with a preference, even a nil
                // one, carries a preference record that every resume looks up under a lock.
                if let executor { group.addTask(executorPreference: executor, operation: caller) } else { group.addTask(operation: caller) }
            }
            try await group.waitForAll()
        }
    }
}

/// A count shared by tasks: each ``takeOne()`` claims one unit while any is left.
final class SharedCounter: Sendable {
    private let value: Atomic<Int>

    init(_ initial: Int) { value = Atomic(initial) }

    /// Claims one unit; false once none is left.
    func takeOne() -> Bool { value.subtract(1, ordering: .relaxed).oldValue > 0 }
}
