import ArgumentParser
import Foundation
import Histogram
import ZGridClient
import ZGridProtocol

/// `zgrid demo`: brings a local cluster up, makes a few calls, prints results and latency, stops.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo", abstract: "Start the local cluster, make a few calls, print their results and latency, and stop.")

    @OptionGroup var common: CommonOptions

    func run() async throws {
        let config = try common.loadConfig(poolFunctions: LocalCluster.poolFunctions)
        let logger = try common.bootstrapLogging(config, label: "zgrid.demo", defaultLevel: "warning")
        let cluster = try LocalCluster.start(
            config, configPath: common.config, logLevel: common.logLevel ?? "warning", logger: logger)
        defer { cluster.stop() }
        print("broker on \(cluster.broker.endpoints.joined(separator: " ")), starting \(cluster.expectedWorkers) workers…")
        guard cluster.waitForWorkers() else {
            throw ValidationError("the workers did not register within 30 s (see the log above)")
        }
        let client = try common.client(config, connect: cluster.connect, logger: logger)
        let served = Set(cluster.broker.status.functions.keys)
        if served.contains("echo") { await show(client, "echo", "hello, grid") }
        if served.contains("hash") { await show(client, "hash", "100000") }
        if served.contains("sleep") { await show(client, "sleep", "20") }
        if served.contains("sleep") { await show(client, "sleep", "2000", timeout: .milliseconds(100)) }
        if served.contains("search") { await show(client, "search", "kalo mine") }
        if served.contains("sleep") { await show(client, "sleep", "soon") }
        if served.contains("search") { await scatterSearch(client) }
        if served.contains("hash") { await backgroundJob(client) }
        if served.contains("echo") { try await latency(client) }
        await client.close()
        print("stopping the cluster")
        fflush(nil)
    }

    private func show(_ client: GridClient, _ function: String, _ payload: String, timeout: Duration = .seconds(10)) async {
        let started = MonotonicClock.nowNanoseconds()
        do {
            let reply = try await client.call(function, Array(payload.utf8), timeout: timeout)
            let text = String(decoding: reply.prefix(200), as: UTF8.self)
            print("  \(function)(\(payload)) -> \(text)  [\(micros(since: started)) µs]")
        } catch {
            print("  \(function)(\(payload)) -> error: \(error)  [\(micros(since: started)) µs]")
        }
    }

    private func scatterSearch(_ client: GridClient) async {
        struct Hits: Decodable { let hits: Int }
        let started = MonotonicClock.nowNanoseconds()
        guard let result = try? await client.scatter("search", Array("kalo mine".utf8), timeout: .seconds(5)).gathered() else { return }
        let hits = result.replies.values.compactMap { try? JSONDecoder().decode(Hits.self, from: Data($0)).hits }.reduce(0, +)
        print(
            "  scatter search(kalo mine) -> \(result.replies.count) of \(result.parts.count) shards answered, \(hits) hits  [\(micros(since: started)) µs]"
        )
    }

    private func backgroundJob(_ client: GridClient) async {
        let started = MonotonicClock.nowNanoseconds()
        do {
            let id = try await client.submit("hash", Array("200000".utf8), options: JobOptions(tags: ["demo"]))
            let queued = micros(since: started)
            let result = try await client.result(job: id, timeout: .seconds(10))
            print(
                "  job \(id): submit hash(200000) acknowledged (on disk) in \(queued) µs, result \(String(decoding: result, as: UTF8.self)) after \(micros(since: started)) µs"
            )
            try await replayEvents(of: id, client)
        } catch {
            print("  background job -> error: \(error)")
        }
    }

    /// The job's events, replayed from the broker's event log (what `zgrid watch --job` shows live).
    private func replayEvents(of id: UInt64, _ client: GridClient) async throws {
        let stream = try client.events(matching: .job(id), after: 0)
        let kinds = try await withThrowingTaskGroup(of: [String]?.self) { group in
            group.addTask {
                var kinds: [String] = []
                // Replayed from seq 0: older runs' expired events show up as a gap, which says
                // nothing about this job.
                for try await event in stream where event.kind != .subscribed && event.kind != .gap {
                    kinds.append(event.kind.rawValue + (event.worker.map { " on \($0)" } ?? ""))
                    if event.kind.isFinal { break }
                }
                return kinds
            }
            group.addTask {
                try await Task.sleep(for: .seconds(5))
                return nil  // no event log (no job store): give up quietly
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
        if let kinds { print("  job \(id) events: \(kinds.joined(separator: " -> "))") }
    }

    private func latency(_ client: GridClient) async throws {
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        let payload = [UInt8](repeating: 0x61, count: 64)
        for _ in 0..<2000 {
            let started = MonotonicClock.nowNanoseconds()
            _ = try await client.call("echo", payload)
            histogram.record((MonotonicClock.nowNanoseconds() - started) / 1000)
        }
        print(
            "  2000 echo calls of 64 bytes, one at a time: p50 \(histogram.valueAtPercentile(50)) µs, "
                + "p99 \(histogram.valueAtPercentile(99)) µs, max \(histogram.max) µs")
    }

    private func micros(since started: UInt64) -> UInt64 { (MonotonicClock.nowNanoseconds() - started) / 1000 }
}
