import ArgumentParser
import Foundation
import ZGridClient
import ZGridProtocol

/// `zgrid submit`: queues a durable background job, or a whole file of them.
struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Queue a durable background job and print its id once it is on disk; or bulk-submit a JSON Lines file.")

    @OptionGroup var common: CommonOptions

    @Argument(help: "The function to run (not with --from).")
    var function: String?

    @Argument(help: "The payload, sent as UTF-8 text.")
    var payload: String = ""

    @Option(name: .long, help: "The broker endpoint; defaults to [broker] connect.")
    var connect: String?

    @Option(name: .long, parsing: .unconditional, help: "Priority 0-9.")
    var priority: Int = 0

    @Option(name: .long, parsing: .unconditional, help: "Run no earlier than this many milliseconds from now (0 or more).")
    var delayMs: Int?

    @Option(name: .long, parsing: .unconditional, help: "Attempts in all before the job is dead-lettered.")
    var maxAttempts: Int = 3

    @Option(name: .long, parsing: .unconditional, help: "Base of the exponential retry backoff, in milliseconds.")
    var backoffMs: Int = 1000

    @Option(
        name: .long, parsing: .unconditional, help: "Time limit of one attempt, in milliseconds (default: [jobs] default_time_limit_ms).")
    var timeLimitMs: Int?

    @Option(name: .long, parsing: .unconditional, help: "How long the result is kept, in seconds (default: [jobs] result_ttl_s).")
    var resultTtlS: Int?

    @Option(name: .long, help: "A key that makes the job unique among unfinished jobs (a second submit returns the first's id).")
    var uniqueKey: String?

    @Option(name: .long, help: "A tag (repeatable).")
    var tag: [String] = []

    @Option(name: .long, help: "A replace key: this job cancels the queued job with the same key (the later supersedes the earlier).")
    var replaceKey: String?

    @Option(name: .long, help: "A fairness key (a user, a tenant): queued jobs of one priority take turns by key.")
    var fairnessKey: String?

    @Option(name: .long, help: "A batch key: jobs of a batch-capable function with the same key may run as one batch.")
    var batchKey: String?

    @Flag(name: .long, help: "Load shedding may park the job as deferred while the broker is overloaded.")
    var sheddable = false

    @Flag(name: .long, help: "Wait for the job to finish and print its result.")
    var wait = false

    @Option(
        name: .long,
        help:
            "Bulk-submit a JSON Lines file: one {\"function\", \"payload\", \"priority\", \"delay_ms\", \"max_attempts\", \"backoff_ms\", \"time_limit_ms\", \"result_ttl_s\", \"unique_key\", \"tags\", \"replace_key\", \"fairness_key\", \"batch_key\", \"sheddable\"} per line; every line is checked before the first is sent."
    )
    var from: String?

    @Option(name: .long, parsing: .unconditional, help: "Submits kept in flight during a bulk submit.")
    var inFlight: Int = 256

    /// Refuses the numbers the client library would refuse, before connecting; the library checks
    /// the rest (function name, tags, keys, the delay's end) and its refusal exits 64 as well.
    func validate() throws {
        guard (0...9).contains(priority) else { throw ValidationError("--priority \(priority) is outside 0...9") }
        if let delayMs, delayMs < 0 { throw ValidationError("--delay-ms \(delayMs) is negative") }
        guard (1...Int(UInt16.max)).contains(maxAttempts) else {
            throw ValidationError("--max-attempts \(maxAttempts) is outside 1...\(UInt16.max)")
        }
        guard (0...Int(UInt32.max)).contains(backoffMs) else {
            throw ValidationError("--backoff-ms \(backoffMs) is outside 0...\(UInt32.max)")
        }
        if let timeLimitMs, !(1...Int(UInt32.max)).contains(timeLimitMs) {
            throw ValidationError("--time-limit-ms \(timeLimitMs) is outside 1...\(UInt32.max)")
        }
        if let resultTtlS, resultTtlS < 1 {
            throw ValidationError("--result-ttl-s \(resultTtlS) is below 1 (leave it out for [jobs] result_ttl_s)")
        }
        if from != nil {
            // Every job of a bulk submit comes from its line: what is given for one job here would
            // be dropped without a word.
            if let ignored = singleJobArguments.first {
                throw ValidationError("--from takes every job from the file: \(ignored) cannot be given with it (put it in the lines)")
            }
            guard inFlight >= 1 else { throw ValidationError("--in-flight \(inFlight) is below 1") }
        }
    }

    /// The arguments given that describe one job (the function, its payload, its options and
    /// `--wait`), by name; options left at their defaults are not counted.
    private var singleJobArguments: [String] {
        let defaults = JobOptions()
        let given: [(String, Bool)] = [
            ("the function", function != nil), ("a payload", !payload.isEmpty), ("--priority", priority != defaults.priority),
            ("--delay-ms", delayMs != nil), ("--max-attempts", maxAttempts != defaults.maxAttempts),
            ("--backoff-ms", .milliseconds(backoffMs) != defaults.backoff), ("--time-limit-ms", timeLimitMs != nil),
            ("--result-ttl-s", resultTtlS != nil), ("--unique-key", uniqueKey != nil), ("--tag", !tag.isEmpty),
            ("--replace-key", replaceKey != nil), ("--fairness-key", fairnessKey != nil), ("--batch-key", batchKey != nil),
            ("--sheddable", sheddable), ("--wait", wait),
        ]
        return given.filter(\.1).map(\.0)
    }

    func run() async throws {
        let config = try common.loadConfig()
        let logger = try common.bootstrapLogging(config, label: "zgrid.client", defaultLevel: "warning")
        let client = try common.client(config, connect: connect, logger: logger)
        defer { Task { await client.close() } }
        if let from {
            try await BulkSubmit(client: client, path: from, inFlight: inFlight).run()
            await client.close()
            return
        }
        guard let function else { throw ValidationError("name the function to run, or give --from FILE.jsonl") }
        let options = JobOptions(
            priority: priority, delay: delayMs.map { .milliseconds($0) }, maxAttempts: maxAttempts, backoff: .milliseconds(backoffMs),
            timeLimit: timeLimitMs.map { .milliseconds($0) }, resultTTL: resultTtlS.map { .seconds($0) }, uniqueKey: uniqueKey, tags: tag,
            replaceKey: replaceKey, fairnessKey: fairnessKey, batchKey: batchKey, sheddable: sheddable)
        do {
            let id = try await client.submit(function, Array(payload.utf8), options: options)
            print(id)
            if wait {
                let result = try await client.result(job: id, timeout: .seconds(3600))
                print(String(decoding: result, as: UTF8.self))
            }
        } catch {
            FileOutput.standardError("zgrid submit: \(error)")
            await client.close()
            throw ExitStatus.of(caught: error)
        }
        await client.close()
    }
}
