import ArgumentParser
import Foundation
import ZGridClient
import ZGridProtocol

/// `zgrid jobs`: inspect and manage background jobs.
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs", abstract: "List, show, wait for, retry, cancel and purge background jobs.",
        subcommands: [List.self, Show.self, Wait.self, Retry.self, Cancel.self, Purge.self])

    /// Options shared by every `jobs` subcommand.
    struct Connection: ParsableArguments {
        @OptionGroup var common: CommonOptions

        @Option(name: .long, help: "The broker endpoint; defaults to [broker] connect.")
        var connect: String?

        /// Runs `body` with a client of the broker and closes the client afterwards, on errors too.
        func withClient<T>(_ body: (GridClient) async throws -> T) async throws -> T {
            let client = try self.client()
            do {
                let value = try await body(client)
                await client.close()
                return value
            } catch {
                await client.close()
                throw error
            }
        }

        func client() throws -> GridClient {
            let config = try common.loadConfig()
            let logger = try common.bootstrapLogging(config, label: "zgrid.client", defaultLevel: "warning")
            return try common.client(config, connect: connect, logger: logger)
        }
    }

    /// Filters shared by list and purge.
    struct Filter: ParsableArguments {
        @Option(
            name: .long,
            help: "Only jobs in this state (repeatable): queued, scheduled, deferred, running, succeeded, failed, dead, cancelled.")
        var state: [String] = []

        @Option(name: .long, help: "Only jobs of this function.")
        var function: String?

        @Option(name: .long, help: "Only jobs with this tag.")
        var tag: String?

        /// Every state a job can be in.
        static let states = ["queued", "scheduled", "deferred", "running", "succeeded", "failed", "dead", "cancelled"]

        /// Refuses a filter that could match no job, so that a typo is not taken for "no such jobs".
        func validate() throws {
            for name in state where !Self.states.contains(name) {
                throw ValidationError("unknown state '\(name)': expected one of \(Self.states.joined(separator: ", "))")
            }
            if let function, !FunctionName.isValid(function) {
                throw ValidationError(FunctionName.invalidMessage(function))
            }
            if let tag, !JobTags.isValid([tag]) {
                throw ValidationError("invalid tag '\(tag)': a tag is 1 to \(JobTags.maxLength) characters without commas")
            }
        }

        func query(limit: Int? = nil, afterID: UInt64? = nil, finishedBefore: Int64? = nil) -> JobQuery {
            JobQuery(
                states: state.isEmpty ? nil : state, function: function, tag: tag, limit: limit, afterID: afterID,
                finishedBefore: finishedBefore)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List jobs, one tab-separated line each (tabs, newlines and backslashes in a field escaped as \\t, \\n, \\\\).")
        @OptionGroup var connection: Connection
        @OptionGroup var filter: Filter
        @Option(name: .long, parsing: .unconditional, help: "At most this many (1 to 10000).") var limit: Int = 100
        @Option(name: .long, help: "Only jobs with a larger id (paging).") var after: UInt64?

        func validate() throws {
            // The broker would clamp it: 0 would list one job, 20000 only 10000.
            guard (1...10_000).contains(limit) else { throw ValidationError("--limit \(limit) is outside 1...10000") }
        }

        func run() async throws {
            let client = try connection.client()
            let jobs = try await client.jobs(filter.query(limit: limit, afterID: after))
            print("id\tstate\tfunction\tattempts\tpriority\ttags\tlast error")
            for job in jobs {
                print(
                    TabSeparated.line([
                        "\(job.id)", job.state, job.function, "\(job.attempts)/\(job.maxAttempts)", "\(job.priority)",
                        job.tags.joined(separator: ","), job.lastError ?? "",
                    ]))
            }
            await client.close()
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one job in full (JSON).")
        @OptionGroup var connection: Connection
        @Argument(help: "The job id.") var id: UInt64

        func run() async throws {
            try await printJob(connection.withClient { try await $0.status(job: id) })
        }
    }

    struct Wait: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Wait for a job to finish and print its result.")
        @OptionGroup var connection: Connection
        @Argument(help: "The job id.") var id: UInt64
        @Option(name: .long, parsing: .unconditional, help: "Give up after this many seconds (0: answer at once).") var timeoutS: Int = 60

        func validate() throws {
            guard timeoutS >= 0 else { throw ValidationError("--timeout-s \(timeoutS) is negative") }
        }

        func run() async throws {
            let client = try connection.client()
            do {
                let result = try await client.result(job: id, timeout: .seconds(timeoutS))
                print(String(decoding: result, as: UTF8.self))
            } catch {
                FileOutput.standardError("zgrid jobs wait \(id): \(error)")
                await client.close()
                throw ExitStatus.of(caught: error)
            }
            await client.close()
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Queue a dead, failed or cancelled job again with fresh attempts.")
        @OptionGroup var connection: Connection
        @Argument(help: "The job id.") var id: UInt64

        /// The states a job is retried from.
        static let retryable = ["dead", "failed", "cancelled"]

        func run() async throws {
            // The broker answers a job it cannot retry with its record, unchanged: for a job still
            // queued that answer would read as a retry, so the job's state is asked first, and an
            // unfinished (or succeeded) job is refused without sending the RETRY.
            let (before, after) = try await connection.withClient { client -> (JobStatus, JobStatus?) in
                let before = try await client.status(job: id)
                guard Self.retryable.contains(before.state) else { return (before, nil) }
                do {
                    return (before, try await client.retry(job: id))
                } catch GridError.busy(let message, _) {
                    // Admission control: the function's queue is full; the job stays as it was.
                    FileOutput.standardError("zgrid jobs retry \(id): busy: \(message); the job is still \(before.state)")
                    throw ExitStatus.of(GridError.busy(message, retryAfter: nil))
                }
            }
            guard let after else {
                try printJob(before)
                FileOutput.standardError("zgrid jobs retry \(id): \(Self.refusal(before.state))")
                throw ExitCode.failure
            }
            try printJob(after)
            // (The broker leaves a job it could retry as it is when another unfinished job holds its replace key.)
            guard ["queued", "scheduled"].contains(after.state) else {
                FileOutput.standardError(
                    "zgrid jobs retry \(id): the job is still \(after.state); it was not queued again: another unfinished job holds its replace key"
                )
                throw ExitCode.failure
            }
        }

        /// Why a job in `state` (not one of ``retryable``) is not retried.
        static func refusal(_ state: String) -> String {
            let only = "only dead, failed or cancelled jobs are retried"
            guard state != "succeeded" else { return "the job has succeeded; \(only)" }
            return "the job is \(state): it has not finished, and \(only)"
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a job: queued ones are removed, running ones stopped.")
        @OptionGroup var connection: Connection
        @Argument(help: "The job id.") var id: UInt64

        func run() async throws {
            let job = try await connection.withClient { try await $0.cancel(job: id) }
            try printJob(job)
            // The broker answers a job that had finished already with its record, unchanged: it
            // ran (or died) and nothing was cancelled.
            guard job.state == "cancelled" else {
                FileOutput.standardError("zgrid jobs cancel \(id): the job had already finished (\(job.state)); nothing was cancelled")
                throw ExitCode.failure
            }
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete finished jobs (succeeded, failed, dead, cancelled).")
        @OptionGroup var connection: Connection
        @OptionGroup var filter: Filter
        @Option(name: .long, parsing: .unconditional, help: "Only jobs that finished at least this many seconds ago.")
        var olderThanS: Int = 0

        func validate() throws {
            // A negative age would reach into the future: every finished job.
            guard olderThanS >= 0 else { throw ValidationError("--older-than-s \(olderThanS) is negative") }
            let finished = ["succeeded", "failed", "dead", "cancelled"]
            for name in filter.state where Filter.states.contains(name) && !finished.contains(name) {
                throw ValidationError("--state \(name): only finished jobs (\(finished.joined(separator: ", "))) are purged")
            }
        }

        func run() async throws {
            let client = try connection.client()
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let (age, overflow) = Int64(olderThanS).multipliedReportingOverflow(by: 1000)
            let before = overflow ? Int64.min : now - age
            let count = try await client.purge(filter.query(finishedBefore: before))
            print("purged \(count) jobs")
            await client.close()
        }
    }
}

/// Prints a job as one JSON document (see ``JobJSON``).
private func printJob(_ job: JobStatus) throws {
    print(try JobJSON.render(job))
}
