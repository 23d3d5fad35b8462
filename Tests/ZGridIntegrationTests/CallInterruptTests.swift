import Foundation
import Synchronization
import Testing
import ZGridClient
import ZGridWorker

extension IntegrationTests {
    @Suite("zgrid call and zgrid scatter stopped by a signal cancel what they wait for", .serialized, .timeLimit(.minutes(1)))
    struct CallInterruptTests {
        /// Starts `arguments` (a `zgrid call` or `scatter` of `slow`) against a broker with a
        /// worker whose `slow` runs for a minute unless cancelled; once it runs, sends `signal` to the
        /// command. Returns the command (ended, or still running 10 s later), its standard error and
        /// how long the handler ran on after the signal (nil: it was not cancelled within 10 s).
        private func interrupt(_ arguments: [String], with signal: Int32) async throws -> (Process, String, Duration?) {
            let broker = try startBroker()
            defer { broker.stop() }
            let started = Counter()
            let cancelledAt = Mutex<ContinuousClock.Instant?>(nil)
            let worker = try await startWorker(broker) { worker in
                worker.register("slow") { _ in
                    started.increment()
                    do { try await Task.sleep(for: .seconds(60)) } catch {
                        cancelledAt.withLock { $0 = .now }
                        throw error
                    }
                    return []
                }
            }
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let log = directory.file("command.log")
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            let process = try launchZGrid(
                arguments + ["--connect", broker.endpoints[0], "--timeout-ms", "60000", "--log-level", "error"],
                standardError: FileHandle(forWritingAtPath: log))
            defer { endProcess(process) }
            try await waitUntil("the call runs on the worker", seconds: 30) { started.count >= 1 }
            let signalled = ContinuousClock.now
            kill(process.processIdentifier, signal)
            let exited = try await waitForExit(process, seconds: 10)
            #expect(exited, "the command still runs 10 s after the signal")
            let deadline = Date().addingTimeInterval(10)
            while cancelledAt.withLock({ $0 }) == nil && Date() < deadline { try await Task.sleep(for: .milliseconds(10)) }
            let ranOn = cancelledAt.withLock { $0 }.map { $0 - signalled }
            await worker.stop()
            return (process, readText(log) ?? "", ranOn)
        }

        @Test("SIGINT to zgrid call cancels the call at once: the handler is cancelled and the command exits 130")
        func interruptedCallIsCancelled() async throws {
            let (process, log, ranOn) = try await interrupt(["call", "slow"], with: SIGINT)
            // Without a CANCEL the broker cancels the handler only once it takes the client for gone (seconds).
            #expect(ranOn != nil && ranOn! < .seconds(1), "the handler ran on for \(String(describing: ranOn)) after SIGINT")
            #expect(process.terminationReason == .exit && process.terminationStatus == 130, "exit status \(process.terminationStatus)")
            #expect(log.contains("SIGINT: the call was cancelled"), "\(log)")
        }

        @Test("SIGTERM to zgrid scatter cancels the scatter at once: its parts' handlers are cancelled and it exits 143")
        func terminatedScatterIsCancelled() async throws {
            let (process, log, ranOn) = try await interrupt(["scatter", "slow", "x"], with: SIGTERM)
            #expect(ranOn != nil && ranOn! < .seconds(1), "the handler ran on for \(String(describing: ranOn)) after SIGTERM")
            #expect(process.terminationReason == .exit && process.terminationStatus == 143, "exit status \(process.terminationStatus)")
            #expect(log.contains("SIGTERM: the scatter was cancelled"), "\(log)")
        }
    }
}
