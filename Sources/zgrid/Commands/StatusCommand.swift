import ArgumentParser
import Foundation
import ZGridClient
import ZGridProtocol

/// `zgrid status`: the broker's status report, once.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Print the broker's workers, functions (load, queue, latency), jobs and counters.")

    @OptionGroup var connection: JobsCommand.Connection

    @Flag(name: .long, help: "Print the raw JSON report.")
    var json = false

    func run() async throws {
        let client = try connection.client()
        let report = try await client.brokerStatus()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(StatusRenderer.render(report, previous: nil))
        }
        await client.close()
    }
}

/// `zgrid top`: the status report refreshed in place, with rates.
struct TopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top", abstract: "The broker's status, refreshed in place with call rates, until Ctrl-C.")

    @OptionGroup var connection: JobsCommand.Connection

    @Option(name: .long, help: "Seconds between refreshes.")
    var interval: Double = 1

    @Option(name: .long, help: "Stop after this many refreshes (0 = until Ctrl-C).")
    var count: Int = 0

    /// The longest interval taken, in seconds (a day).
    static let maxInterval = 86_400.0

    /// Refuses an interval that is not a positive number of seconds (`nan` or `inf` would crash
    /// the sleep, 0 or less would ask the broker for its report without a pause) and a negative
    /// count (which would print nothing), with this command's usage.
    func validate() throws {
        guard interval.isFinite, interval > 0, interval <= Self.maxInterval else {
            throw ValidationError("--interval must be a number of seconds above 0 and at most \(Int(Self.maxInterval)), got \(interval)")
        }
        guard count >= 0 else { throw ValidationError("--count must be 0 (until Ctrl-C) or more, got \(count)") }
    }

    func run() async throws {
        let client = try connection.client()
        var previous: StatusReport?
        var shown = 0
        while count == 0 || shown < count {
            let report = try await client.brokerStatus()
            print("\u{1B}[H\u{1B}[2J" + StatusRenderer.render(report, previous: previous))
            previous = report
            shown += 1
            try await Task.sleep(for: .milliseconds(Int(interval * 1000)))
        }
        await client.close()
    }
}

/// `zgrid drain WORKER`: the broker sends the worker no new work.
struct DrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drain", abstract: "Stop sending new work to a worker (id from zgrid status); its running calls and jobs finish.")

    @OptionGroup var connection: JobsCommand.Connection

    @Argument(help: "The worker's id, as zgrid status shows it.")
    var worker: String

    /// Refuses an empty id, which names no worker.
    func validate() throws {
        if worker.isEmpty { throw ValidationError("the worker id must not be empty (zgrid status lists them)") }
    }

    func run() async throws {
        let client = try connection.client()
        let known = try await client.drain(worker: worker)
        await client.close()
        guard known else {
            FileOutput.standardError("zgrid drain: no worker \(worker)")
            throw ExitCode(2)
        }
        print("draining \(worker)")
    }
}

/// Formats a status report as text tables.
enum StatusRenderer {
    /// The report as text; with `previous`, an older report of the same broker, each function's
    /// calls per second since then.
    static func render(_ report: StatusReport, previous: StatusReport?) -> String {
        var lines: [String] = ["broker up \(report.uptimeMilliseconds / 1000) s"]
        lines.append("")
        lines.append(pad(["function", "workers", "used/capacity", "queued", "ok", "failed", "calls/s", "p50 µs", "p99 µs"]))
        for function in report.functions {
            let rate = previous.flatMap { report.callsPerSecond(of: function, since: $0) }.map { String(format: "%.0f", $0) } ?? "-"
            lines.append(
                pad([
                    function.name, "\(function.workers)", "\(function.inFlight)/\(function.capacity)", "\(function.queuedCalls)",
                    "\(function.succeeded)", "\(function.failed)", rate, "\(function.p50Microseconds)", "\(function.p99Microseconds)",
                ]))
        }
        lines.append("")
        lines.append(pad(["worker", "used/capacity", "jobs", "state", "functions"], widths: workerColumns))
        for worker in report.workers {
            lines.append(
                pad(
                    [
                        worker.id, "\(worker.inFlight)/\(worker.capacity)", "\(worker.jobsInFlight)",
                        worker.draining ? "draining" : "serving",
                        worker.functions.joined(separator: ","),
                    ], widths: workerColumns))
        }
        lines.append("")
        var states = ["queued", "scheduled", "running"]
        // Parked by load shedding, or waiting on disk past the memory bound: shown when there are any.
        for extra in ["deferred", "queued_on_disk"] where (report.jobs[extra] ?? 0) > 0 { states.append(extra) }
        let jobs = states.map { "\($0) \(report.jobs[$0] ?? 0)" }.joined(separator: ", ")
        let byPriority = (0...9).reversed().compactMap { p in report.queuedJobsByPriority["\(p)"].map { "p\(p): \($0)" } }.joined(
            separator: " ")
        lines.append("jobs: \(jobs)" + (byPriority.isEmpty ? "" : "  (queued by priority: \(byPriority))"))
        let counters = report.counters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        lines.append("counters: \(counters)")
        return lines.joined(separator: "\n")
    }

    /// The column widths of the function table, and of the worker table.
    private static let functionColumns = [18, 8, 14, 8, 10, 8, 9, 9, 9]
    private static let workerColumns = [18, 15, 6, 10]

    private static func pad(_ columns: [String], widths: [Int] = functionColumns) -> String {
        return columns.enumerated().map { index, text in
            let width = index < widths.count ? widths[index] : 0
            return text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
        }.joined()
    }
}
