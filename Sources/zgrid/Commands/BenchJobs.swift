import ArgumentParser
import Foundation
import Synchronization
import ZGridClient
import ZGridProtocol

/// `zgrid bench jobs`: durable submits kept in flight, then the time the workers take to drain them.
struct BenchJobs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs",
        abstract: "Submit no-op jobs with many in flight (acknowledged = on disk), then wait for the workers to drain them.")

    @OptionGroup var common: CommonOptions

    @Option(name: .long, help: "The broker endpoint; defaults to [broker] connect.")
    var connect: String?

    @Option(name: .long, help: "The function the jobs run (echo answers at once).")
    var function: String = "echo"

    @Option(name: .long, help: "How many jobs.")
    var count: Int = 100_000

    @Option(name: .long, help: "Submits kept in flight.")
    var inFlight: Int = 512

    @Flag(name: .long, help: "Do not wait for the jobs to finish.")
    var noDrain = false

    func run() async throws {
        let config = try common.loadConfig()
        let logger = try common.bootstrapLogging(config, label: "zgrid.bench", defaultLevel: "warning")
        let client = try common.client(config, connect: connect, logger: logger)
        let tickets = TicketDispenser()
        let (function, count) = (self.function, self.count)
        let payload = Array("x".utf8)
        let started = Date()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<max(1, inFlight) {
                group.addTask {
                    while tickets.take() < count {
                        _ = try await client.submit(function, payload, options: JobOptions(maxAttempts: 1))
                    }
                }
            }
            try await group.waitForAll()
        }
        let submitSeconds = Date().timeIntervalSince(started)
        print(
            String(format: "submitted %d jobs in %.2f s: %.0f acknowledged submits/s", count, submitSeconds, Double(count) / submitSeconds))
        guard !noDrain else {
            await client.close()
            return
        }
        // Only this run's jobs (each carries its client's origin tag): a job of another client that
        // waits for a later time, or for a function no worker serves, must not hold the run forever.
        let ownJobs = JobQuery(states: ["queued", "scheduled", "running", "deferred"], tag: client.originTag, limit: 1)
        while true {
            let left = try await client.jobs(ownJobs)
            if left.isEmpty { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        let total = Date().timeIntervalSince(started)
        print(
            String(
                format: "all %d jobs finished %.2f s after the first submit: %.0f jobs/s end to end", count, total, Double(count) / total))
        await client.close()
    }
}
