// The ZGrid benchmark suite for ordo-one/package-benchmark. Run from Benchmarks/:
//
//     swift package benchmark --target ZGridBenchmarks
//
// Every grid benchmark runs a real broker on tcp://127.0.0.1:0, real workers and one GridClient in
// this process, built once in the benchmark's setup hook (outside the measurements) and stopped in
// its teardown hook. Thresholds gate on malloc counts only, never on time: on a shared machine
// with few cores, times vary too much between runs to gate on. BrokerCore_MallocsPerCall is gated
// exactly (its count is deterministic); the grid benchmarks' counts within 10% at the median.

import Benchmark
import ZGridBroker
import ZGridClient
import ZGridWorker

/// Thresholds that never fail, for the times: reported, never gated.
private var ungated: BenchmarkThresholds { .none }

/// Thresholds for the malloc counts of the grid benchmarks, which cover every thread of the
/// process (client, broker, workers, libzmq): they move by a few percent between runs with how
/// messages happen to be batched, so only a change of the median by more than 10% fails.
private var endToEndMallocs: BenchmarkThresholds { .init(relative: [.p50: 10.0]) }

/// Settings shared by the grid benchmarks.
private func gridConfiguration(
    warmup: Int, maxIterations: Int, scalingFactor: BenchmarkScalingFactor = .one, setup: Benchmark.BenchmarkSetupHook?,
    teardown: Benchmark.BenchmarkTeardownHook?
) -> Benchmark.Configuration {
    .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        timeUnits: .microseconds,
        warmupIterations: warmup,
        scalingFactor: scalingFactor,
        maxDuration: .seconds(5),
        maxIterations: maxIterations,
        thresholds: [.wallClock: ungated, .throughput: ungated, .mallocCountTotal: endToEndMallocs],
        setup: setup,
        teardown: teardown
    )
}

/// The calls in flight in `Call_Echo64B_Pipelined200`.
private let pipelineDepth = 200

let benchmarks: @Sendable () -> Void = {
    // MARK: Calls

    let echo = Slot<Cluster>()
    let startEcho: Benchmark.BenchmarkSetupHook = { echo.store(try await Cluster.echo()) }
    let stopEcho: Benchmark.BenchmarkTeardownHook = { await echo.take()?.stop() }

    // One synchronous call of a 64-byte echo per iteration: the round trip client → broker →
    // worker → broker → client over tcp loopback.
    Benchmark(
        "Call_Echo64B_Latency",
        configuration: gridConfiguration(warmup: 500, maxIterations: 50_000, setup: startEcho, teardown: stopEcho)
    ) { benchmark in
        guard let client = echo.current?.client else { return benchmark.error("no cluster") }
        for _ in benchmark.scaledIterations {
            do {
                blackHole(try await client.call("echo", echoPayload, timeout: .seconds(5)))
            } catch {
                return benchmark.error("call failed: \(error)")
            }
        }
    }

    // 1000 calls of a 64-byte echo per iteration (scaledIterations counts calls), 200 in flight at
    // a time from a task group: throughput with the pipeline kept full (it drains at the end of
    // each iteration).
    Benchmark(
        "Call_Echo64B_Pipelined200",
        configuration: gridConfiguration(warmup: 5, maxIterations: 2_000, scalingFactor: .kilo, setup: startEcho, teardown: stopEcho)
    ) { benchmark in
        guard let client = echo.current?.client else { return benchmark.error("no cluster") }
        let total = benchmark.scaledIterations.count
        let failures = await withTaskGroup(of: Int.self, returning: Int.self) { group in
            var started = 0
            var failures = 0
            while started < min(pipelineDepth, total) {
                group.addTask { await callEcho(client) }
                started += 1
            }
            while let failed = await group.next() {
                failures += failed
                if started < total {
                    group.addTask { await callEcho(client) }
                    started += 1
                }
            }
            return failures
        }
        if failures > 0 { benchmark.error("\(failures) of \(total) calls failed") }
    }

    // MARK: Scatter/gather

    for shards in [1, 4, 16] {
        let grid = Slot<Cluster>()
        // One gathered scatter of a small query per iteration, over a sharded function held by 4
        // workers of concurrency 4.
        Benchmark(
            "Scatter_\(shards)Shard\(shards == 1 ? "" : "s")",
            configuration: gridConfiguration(
                warmup: 200, maxIterations: 20_000,
                setup: { grid.store(try await Cluster.sharded(totalShards: shards)) },
                teardown: { await grid.take()?.stop() })
        ) { benchmark in
            guard let client = grid.current?.client else { return benchmark.error("no cluster") }
            for _ in benchmark.scaledIterations {
                let result: GatheredResult
                do {
                    result = try await client.scatter("lookup", scatterQuery, timeout: .seconds(5)).gathered()
                } catch {
                    return benchmark.error("scatter failed: \(error)")
                }
                guard result.isComplete, result.parts.count == shards else {
                    return benchmark.error("incomplete scatter: \(result.parts.count) of \(shards) parts, \(result.failures)")
                }
                blackHole(result)
            }
        }
    }

    // MARK: Broker core

    // The broker's routing path without sockets: per iteration one CALL and the worker's REPLY
    // through BrokerCore.handle(_:now:into:), reusing one actions array. Gated on malloc counts.
    var driver: CoreDriver?
    Benchmark(
        "BrokerCore_MallocsPerCall",
        configuration: .init(
            metrics: [.mallocCountTotal, .wallClock],
            timeUnits: .nanoseconds,
            warmupIterations: 1_000,
            maxDuration: .seconds(5),
            maxIterations: 100_000,
            thresholds: [
                .mallocCountTotal: .init(absolute: [.p25: 0, .p50: 0, .p75: 0, .p90: 0]),
                .wallClock: ungated,
            ],
            setup: { driver = CoreDriver() },
            teardown: { driver = nil }
        )
    ) { benchmark in
        guard let core = driver else { return benchmark.error("no core") }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            guard core.call() else {
                benchmark.stopMeasurement()
                return benchmark.error("the core did not route the call")
            }
        }
        benchmark.stopMeasurement()
        core.tick()
    }
}

/// One echo call for the pipelined benchmark; returns 1 when it failed, 0 when it succeeded.
@Sendable private func callEcho(_ client: GridClient) async -> Int {
    do {
        blackHole(try await client.call("echo", echoPayload, timeout: .seconds(10)))
        return 0
    } catch {
        return 1
    }
}
