import ArgumentParser
import Foundation
import Synchronization
import ZGridClient
import ZGridProtocol

/// `zgrid watch`: prints the broker's events live, one line each.
struct WatchCommand: AsyncParsableCommand, StopSignalHandling {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Print job and worker pool events as the broker pushes them, until Ctrl-C.",
        discussion: """
            With no filter every event is shown. Filters add up: --job 12 --tag photos shows the events \
            of job 12 and of every job tagged photos. With --name the broker remembers how far this \
            watcher read, and a later `zgrid watch --name` with the same name resumes there.
            """)

    @OptionGroup var connection: JobsCommand.Connection

    @Option(name: .long, help: "Events of this job id (repeatable).")
    var job: [UInt64] = []

    @Option(name: .long, help: "Events of jobs with this tag (repeatable).")
    var tag: [String] = []

    @Option(name: .long, help: "Events of this function's jobs, and no_workers when it has none left (repeatable).")
    var function: [String] = []

    @Flag(name: .long, help: "Worker pool events (joined, left, no workers), of every function.")
    var pool = false

    @Option(name: .long, help: "A durable subscription name: resume where the last watcher with this name stopped.")
    var name: String?

    @Option(name: .long, help: "Replay from the broker's event log after this seq.")
    var after: UInt64?

    @Option(name: .long, parsing: .unconditional, help: "Stop after this many events (0 = until Ctrl-C).")
    var count: Int = 0

    @Flag(name: .long, help: "Print each event as one line of JSON.")
    var json = false

    /// Refuses a negative count, and an empty name (which the client library would refuse).
    func validate() throws {
        guard count >= 0 else { throw ValidationError("--count \(count) is negative") }
        if name == "" { throw ValidationError("--name must not be empty") }
    }

    func run() async throws {
        // Ended by its reader (`zgrid watch | head`) as any filter is: SIGPIPE's default action.
        signal(SIGPIPE, SIG_DFL)
        let config = try connection.common.loadConfig()
        let client = try connection.client()
        let filter = EventFilter(
            jobs: job.isEmpty ? nil : job, tags: tag.isEmpty ? nil : tag, functions: function.isEmpty ? nil : function,
            pool: pool ? true : nil)
        let stream = try client.events(matching: filter, name: name, after: after)
        let (json, count) = (self.json, self.count)
        // The library keeps a subscription waiting for its broker, to ride out restarts; one that
        // no broker ever confirmed (none runs there) fails within the heartbeat expiry, as every
        // other command's request does, instead of waiting silently forever.
        let expiry = config.broker.heartbeat.expiryMilliseconds
        let printing = Mutex<Task<Void, any Error>?>(nil)
        let deadline = FirstAnswerDeadline(milliseconds: expiry) { printing.withLock { $0?.cancel() } }
        let task = Task { try await Self.printEvents(of: stream, json: json, count: count, answered: deadline.answered) }
        printing.withLock { $0 = task }
        // Ctrl-C (SIGINT, SIGTERM, SIGHUP) ends the stream instead of the process, so that closing
        // the client tells the broker the last event printed: a later watcher with the same
        // --name resumes right after it.
        let interruption = SignalCancellation { task.cancel() }
        let ending = await task.result
        await client.close()
        if let signal = interruption.signal { throw ExitCode(128 + signal) }
        if deadline.expired {
            FileOutput.standardError(
                "zgrid watch: broker unreachable: no broker at \(connection.connect ?? config.broker.connect) "
                    + "answered the subscription within \(expiry) ms")
            throw ExitCode(2)
        }
        if case .failure(GridError.cancelled) = ending, name != nil {
            // The broker closes a named subscription when another subscribes with its name.
            FileOutput.standardError(
                "zgrid watch: another watcher subscribed with --name \(name ?? "") and took the subscription over")
            throw ExitCode(2)
        }
        try ending.get()
    }

    /// Prints the events of `stream`, one line each (JSON with `json`), until `count` were shown
    /// (0: until the stream ends or the task is cancelled); `answered` runs at the first event, the
    /// broker's confirmation of the subscription.
    private static func printEvents(
        of stream: EventStream, json: Bool, count: Int, answered: @Sendable () -> Void
    ) async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let lines = EventLine()
        var shown = 0
        var confirmed = false
        for try await event in stream {
            if !confirmed {
                confirmed = true
                answered()
            }
            if json {
                print(String(decoding: try encoder.encode(event), as: UTF8.self))
            } else {
                print(lines.render(event))
            }
            fflush(nil)  // live, also when piped
            if event.kind != .subscribed { shown += 1 }
            if count > 0 && shown >= count { break }
        }
    }
}

/// One readable line per event. One renderer serves a whole watch: a date formatter made for each
/// line cost most of the time of printing it.
struct EventLine {
    private let formatter: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withTime, .withColonSeparatorInTime, .withFractionalSeconds]
        return formatter
    }()

    /// `seq  time  kind  job/function  details`.
    func render(_ event: GridEvent) -> String {
        let time = Date(timeIntervalSince1970: Double(event.at) / 1000)
        var subject = ""
        if let job = event.job { subject = "job \(job)" }
        if let function = event.function { subject += subject.isEmpty ? function : " (\(function))" }
        var details: [String] = []
        if let worker = event.worker { details.append("worker \(worker)") }
        if let attempt = event.attempt { details.append("attempt \(attempt)") }
        if let fraction = event.fraction { details.append(String(format: "%.0f%%", fraction * 100)) }
        if let message = event.message, !message.isEmpty { details.append(message) }
        if let error = event.error { details.append("error: \(error)") }
        if let size = event.resultSize { details.append("result \(size) bytes") }
        if let from = event.missedFrom, let to = event.missedTo {
            details.append("missed \(from)...\(to)" + (event.missed.map { " (\($0) events)" } ?? ""))
        }
        let kind = event.kind.rawValue.padding(toLength: 13, withPad: " ", startingAt: 0)
        return "\(String(event.seq).padding(toLength: 8, withPad: " ", startingAt: 0)) \(formatter.string(from: time))  \(kind) "
            + "\(subject.padding(toLength: 24, withPad: " ", startingAt: 0)) \(details.joined(separator: ", "))"
    }
}
