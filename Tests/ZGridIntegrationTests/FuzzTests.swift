import Foundation
import Logging
import Synchronization
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZGridWorker
import ZeroMQ

extension IntegrationTests {
    /// `zgrid fuzz` against real brokers: tens of thousands of random and mutated ZGC01, ZGW01 and
    /// MDP messages (the generator is in `Sources/zgrid/Support/FuzzGenerator.swift`) while real
    /// calls run. `make fuzz` runs the same with 1,000,000 messages.
    @Suite("Fuzzing the broker", .serialized, .timeLimit(.minutes(3)))
    struct FuzzTests {
        /// Settings shared by the fuzzed brokers and `zgrid fuzz`: test heartbeats, a short grace
        /// period, and a 256 KiB frame limit so that frames just under and over it are cheap.
        private static let frameLimit = 256 * 1024
        private static let configExtra = """
            unknown_function_grace_ms = 300
            default_timeout_ms = 3000
            max_message_bytes = \(frameLimit)
            """

        /// How far over its start the broker's resident memory may end, in MiB: 64, or
        /// `ZGRID_TEST_RSS_SLACK_MIB` (`make test-asan` raises it, as AddressSanitizer keeps freed
        /// memory resident in its quarantine; LeakSanitizer then checks the broker at exit instead).
        private static let rssSlackMiB = ProcessInfo.processInfo.environment["ZGRID_TEST_RSS_SLACK_MIB"].flatMap { Int($0) } ?? 64

        @Test("a broker process survives 50,000 fuzz messages: every real call correct, fuzz state forgotten, memory back near its start")
        func brokerProcess() async throws {
            // Must hold: `zgrid fuzz` passes all its checks (broker alive, every checked and pacing
            // call answered with its own payload, the fuzzer's workers and calls forgotten, resident
            // memory at most 64 MiB over its start), and, seen from here, a steady stream of echo
            // calls during the fuzzing all return their own payload, the broker serves after, and it
            // stops cleanly on SIGTERM (in a sanitizer build, with no leak found at its exit).
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let config = try writeHeartbeatConfig(directory, heartbeat: fuzzHeartbeat, extra: Self.configExtra)
            let endpoint = "tcp://127.0.0.1:\(try freePort())"
            let broker = try launchZGrid(["broker", "--config", config, "--bind", endpoint, "--job-store", "", "--log-level", "critical"])
            defer { endProcess(broker) }
            let pid = broker.processIdentifier
            let worker = try await startEchoWorker(endpoint)
            let client = try GridClient(broker: endpoint, heartbeat: fuzzHeartbeat)
            for index in 0..<300 { _ = try await client.call("echo", bytes("warm-up \(index)"), timeout: .seconds(10)) }
            let rssStart = try #require(residentBytes(of: pid))

            let stream = EchoStream(client)
            let fuzz = try await runFuzz(
                [
                    "--config", config, "--connect", endpoint, "--messages", "50000", "--seed", "20260101", "--broker-pid", "\(pid)",
                    "--rss-slack-mib", "\(Self.rssSlackMiB)",
                ],
                output: directory.file("fuzz.out"))
            let outcome = await stream.stop()

            #expect(fuzz.status == 0, "zgrid fuzz failed:\n\(fuzz.output)")
            #expect(fuzz.output.contains("result: all"), "zgrid fuzz printed:\n\(fuzz.output)")
            #expect(kill(pid, 0) == 0, "the broker process is alive")
            #expect(outcome.calls > 0)
            #expect(outcome.problems.isEmpty, "echo calls during the fuzzing: \(outcome.problems.prefix(5))")
            #expect(try await client.call("echo", bytes("after"), timeout: .seconds(5)) == bytes("after"))
            let rssEnd = try #require(residentBytes(of: pid))
            #expect(rssEnd <= rssStart + Self.rssSlackMiB << 20, "broker RSS \(rssStart >> 20) MiB before, \(rssEnd >> 20) MiB after")
            await client.close()
            await worker.stop()
            kill(pid, SIGTERM)
            let deadline = Date().addingTimeInterval(30)
            while broker.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
            #expect(!broker.isRunning, "the broker still runs 30 s after SIGTERM")
            endProcess(broker)
            #expect(broker.terminationReason == .exit && broker.terminationStatus == 0, "the broker's exit after SIGTERM")
        }

        @Test("an in-process broker holds nothing of the fuzzer afterwards: no call, no payload buffer, no fuzz worker")
        func inProcessBrokerState() async throws {
            // Must hold: after 20,000 fuzz messages and the client expiry, the broker's exact
            // state is back to one real worker, no call queued or running, no payload buffer held;
            // it counted malformed messages and protocol violations; checked calls were all correct.
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let config = try writeHeartbeatConfig(directory, heartbeat: fuzzHeartbeat, extra: Self.configExtra)
            // As startBroker(), but logging errors only: the fuzzing makes thousands of warnings.
            var logger = Logger(label: "test.fuzzed-broker")
            logger.logLevel = .error
            let options = BrokerOptions(heartbeat: fuzzHeartbeat, defaultTimeoutMilliseconds: 3_000, unknownFunctionGraceMilliseconds: 300)
            var configuration = BrokerConfiguration(endpoints: ["tcp://127.0.0.1:0"], options: options, maxMessageBytes: Self.frameLimit)
            configuration.shutdownGraceMilliseconds = 1000
            let broker = try BrokerServer.start(configuration, logger: logger)
            defer { broker.stop() }
            let endpoint = broker.endpoints[0]
            let worker = try await startEchoWorker(endpoint)
            let client = try GridClient(broker: endpoint, heartbeat: fuzzHeartbeat)
            let stream = EchoStream(client)
            let fuzz = try await runFuzz(
                ["--config", config, "--connect", endpoint, "--messages", "20000", "--seed", "77"], output: directory.file("fuzz.out"))
            let outcome = await stream.stop()

            #expect(fuzz.status == 0, "zgrid fuzz failed:\n\(fuzz.output)")
            #expect(outcome.calls > 0)
            #expect(outcome.problems.isEmpty, "echo calls during the fuzzing: \(outcome.problems.prefix(5))")
            try await waitUntil("the fuzzer's calls, payloads and workers forgotten", seconds: 20) {
                let status = broker.status
                return status.callsInFlight == 0 && status.heldPayloads == 0 && status.workers == 1
            }
            let status = try await settledStatus(broker)
            #expect(status.statistics.malformedMessages > 1000)
            #expect(status.statistics.protocolViolations > 0)
            #expect(status.statistics.workersLost > 0, "fuzz workers that went silent were dropped")
            #expect(try await client.call("echo", bytes("after"), timeout: .seconds(5)) == bytes("after"))
            await client.close()
            await worker.stop()
        }

        @Test("the fuzz generator repeats exactly for a seed")
        func generatorIsDeterministic() async throws {
            func digest(_ seed: Int) async throws -> String {
                let directory = try TemporaryDirectory()
                defer { directory.remove() }
                let run = try await runFuzz(
                    ["--dry-run", "--messages", "5000", "--seed", "\(seed)", "--max-message-bytes", "65536"],
                    output: directory.file("digest"))
                #expect(run.status == 0)
                return run.output
            }
            let first = try await digest(42)
            #expect(first.hasPrefix("digest "))
            #expect(try await digest(42) == first)
            #expect(try await digest(43) != first)
        }
    }
}

/// Runs `zgrid fuzz` with `arguments` as a child process, its standard output going to `output`;
/// returns its exit status and output.
private func runFuzz(_ arguments: [String], output: String, seconds: Double = 150) async throws -> (status: Int32, output: String) {
    guard FileManager.default.createFile(atPath: output, contents: nil) else { throw LaunchError(message: "cannot create \(output)") }
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
    defer { try? handle.close() }
    let process = try launchZGrid(["fuzz", "--log-level", "critical"] + arguments, standardOutput: handle)
    defer { endProcess(process) }
    let deadline = Date().addingTimeInterval(seconds)
    while process.isRunning {
        if Date() > deadline {
            Issue.record("zgrid fuzz did not finish within \(seconds) s")
            break
        }
        try await Task.sleep(for: .milliseconds(50))
    }
    process.waitUntilExit()
    let text = readText(output) ?? ""
    return (process.terminationStatus, text)
}

/// The heartbeat of the fuzzed brokers and of the peers that talk to them: the tests' interval,
/// and a liveness of 2 s rather than 0.8 s. The in-process broker shares its process with the
/// worker and the client, under a flood of fuzz messages; on a loaded 2-core machine 0.8 s of
/// silence can be a stall, not a loss, and a checked call then failed as "worker lost".
private let fuzzHeartbeat = HeartbeatSettings(intervalMilliseconds: testHeartbeat.intervalMilliseconds, liveness: 10)

/// Starts an in-process worker serving `echo` at `endpoint` and waits until it answers.
private func startEchoWorker(_ endpoint: String) async throws -> RunningWorker {
    let worker = Worker(
        broker: endpoint, concurrency: 16, heartbeat: fuzzHeartbeat, drainTimeoutMilliseconds: 2_000, logger: quietLogger("test.worker"))
    worker.register("echo", execution: .ioThread) { $0.payload }
    let task = Task { try await worker.run() }
    let probe = try GridClient(broker: endpoint, heartbeat: fuzzHeartbeat)
    let deadline = Date().addingTimeInterval(20)
    while (try? await probe.call("echo", bytes("ping"), timeout: .seconds(1))) != bytes("ping") {
        guard Date() < deadline else {
            await probe.close()
            throw TestTimeout(what: "echo worker answering")
        }
        try await Task.sleep(for: .milliseconds(100))
    }
    await probe.close()
    return RunningWorker(worker: worker, task: task)
}

/// Two lanes of echo calls in a loop, each with its own payload, until ``stop()``.
private final class EchoStream: Sendable {
    struct Outcome: Sendable {
        var calls = 0
        var problems: [String] = []
    }

    private final class Shared: Sendable {
        let state = Mutex((stopped: false, outcome: Outcome()))
    }

    private let shared = Shared()
    private let lanes: [Task<Void, Never>]

    init(_ client: GridClient) {
        let shared = self.shared
        lanes = (0..<2).map { lane in
            Task {
                var index = 0
                while !shared.state.withLock({ $0.stopped }) {
                    index += 1
                    let payload =
                        bytes("stream \(lane).\(index) ") + [UInt8](repeating: UInt8(truncatingIfNeeded: index), count: index % 300)
                    let problem: String?
                    do {
                        let reply = try await client.call("echo", payload, timeout: .seconds(20))
                        problem = reply == payload ? nil : "call \(lane).\(index) got another payload (\(reply.count) bytes)"
                    } catch {
                        problem = "call \(lane).\(index) failed: \(error)"
                    }
                    shared.state.withLock {
                        $0.outcome.calls += 1
                        if let problem { $0.outcome.problems.append(problem) }
                    }
                }
            }
        }
    }

    /// Stops the lanes and returns what they saw.
    func stop() async -> Outcome {
        shared.state.withLock { $0.stopped = true }
        for lane in lanes { await lane.value }
        return shared.state.withLock { $0.outcome }
    }
}

/// The resident set size of process `pid` (VmRSS in /proc/PID/status), in bytes.
func residentBytes(of pid: Int32) -> Int? {
    guard let text = readText("/proc/\(pid)/status") else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        return Int(line.dropFirst("VmRSS:".count).filter(\.isNumber)).map { $0 * 1024 }
    }
    return nil
}
