import ArgumentParser
import ZGridClient
import ZGridProtocol

/// `zgrid scatter NAME [PAYLOAD]`: one query over every shard (or worker), or a parallel map.
struct ScatterCommand: AsyncParsableCommand, StopSignalHandling {
    static let configuration = CommandConfiguration(
        commandName: "scatter",
        abstract: "Send a query to every shard of a function (or every worker) and print each part as it arrives.")

    @OptionGroup var common: CommonOptions

    @Argument(help: "The function to call.")
    var name: String

    @Argument(help: "The payload (UTF-8 text) sent to every shard; with --map, one input per argument.")
    var payloads: [String] = []

    @Flag(name: .long, help: "Parallel map: spread the payload arguments over the workers, one call each.")
    var map = false

    @Option(name: .long, help: "Gather policy: all, first:N or quorum.")
    var gather: String = "all"

    @Option(name: .long, help: "The broker endpoint; defaults to [broker] connect.")
    var connect: String?

    @Option(name: .long, help: "Time limit in milliseconds.")
    var timeoutMs: Int = 10_000

    /// Refuses more than one payload without `--map` (a broadcast sends one payload to every
    /// shard: the others would be dropped unseen), `--map` without inputs, and a gather policy or
    /// time limit the client library would refuse, with this command's usage and before connecting.
    func validate() throws {
        guard map || payloads.count <= 1 else {
            throw ValidationError(
                "\(payloads.count) payloads given without --map: a scatter sends one payload to every shard "
                    + "(quote it to send text with spaces), or spreads several over the workers with --map")
        }
        guard !map || !payloads.isEmpty else {
            throw ValidationError("--map needs at least one input: a parallel map over none would send nothing and succeed")
        }
        _ = try parsePolicy()
        guard (1...Int(UInt32.max)).contains(timeoutMs) else {
            throw ValidationError("--timeout-ms \(timeoutMs) is outside 1...\(UInt32.max)")
        }
    }

    func run() async throws {
        let config = try common.loadConfig()
        let logger = try common.bootstrapLogging(config, label: "zgrid.client")
        let policy = try parsePolicy()
        let client = try common.client(config, connect: connect, logger: logger)
        let stream =
            map
            ? try client.scatter(name, inputs: payloads.map { Array($0.utf8) }, gather: policy, timeout: .milliseconds(timeoutMs))
            : try client.scatter(name, Array((payloads.first ?? "").utf8), gather: policy, timeout: .milliseconds(timeoutMs))
        let started = MonotonicClock.nowNanoseconds()
        let gathering = Task { try await Self.printParts(of: stream) }
        let interruption = SignalCancellation { gathering.cancel() }
        let parts: [ScatterPart]
        do {
            parts = try await gathering.value
            if interruption.signal != nil { throw GridError.cancelled }
        } catch {
            // Closing sends the CANCEL of a scatter cancelled by a signal before the process ends.
            await client.close()
            throw interruption.failure(error, command: "zgrid scatter \(name)", what: "scatter")
        }
        let total = (MonotonicClock.nowNanoseconds() - started) / 1000
        let failed = parts.filter { if case .failure = $0.result { true } else { false } }.count
        // The broker's summary counts every part of the scatter, also those a first:N or quorum
        // gather stopped waiting for.
        let summary = stream.doneSummary ?? ScatterSummary(parts: parts.count, succeeded: parts.count - failed, failed: failed)
        let notGathered = summary.parts - summary.succeeded - summary.failed
        print(
            "\(summary.parts) parts, \(summary.succeeded) answered, \(summary.failed) missing"
                + (notGathered > 0 ? ", \(notGathered) not waited for" : "") + ", in \(total) µs")
        await client.close()
        // Exit 3 when the gather policy was not met (all: a part is missing).
        if !policy.isSatisfied(by: summary) { throw ExitCode(3) }
    }

    /// Prints each part of `stream` as it arrives; returns them all.
    private static func printParts(of stream: ScatterStream) async throws -> [ScatterPart] {
        var parts: [ScatterPart] = []
        for try await part in stream {
            parts.append(part)
            let micros = part.elapsed.components.attoseconds / 1_000_000_000_000 + part.elapsed.components.seconds * 1_000_000
            switch part.result {
            case .success(let bytes):
                print("part \(part.index) [\(micros) µs]: \(String(decoding: bytes.prefix(300), as: UTF8.self))")
            case .failure(let error):
                print("part \(part.index) [\(micros) µs]: missing: \(error)")
            }
        }
        return parts
    }

    /// The `--gather` policy; checked by ``validate()``, so `run()` never sees it throw.
    private func parsePolicy() throws -> GatherPolicy {
        if gather == "all" { return .all }
        if gather == "quorum" { return .quorum }
        if gather.hasPrefix("first:"), let n = Int(gather.dropFirst(6)), (1...Int(UInt16.max)).contains(n) { return .first(n) }
        throw ValidationError("bad --gather '\(gather)': expected all, first:N (N from 1 to \(UInt16.max)) or quorum")
    }
}
