import Foundation
import Testing
import ZGridBroker

extension IntegrationTests {
    @Suite(
        "zgrid processes and the crash signals", .serialized, .timeLimit(.minutes(3)),
        .disabled(
            if: ProcessInfo.processInfo.environment["TSAN_OPTIONS"] != nil,
            "ThreadSanitizer defers signals to its own handling, in which a zgrid process sent SIGABRT either ended by SIGSEGV or did not end within 60 s: what these tests check, the Swift runtime's crash handler, is not what runs there"
        ))
    struct CrashSignalTests {
        /// Sends `signal` to a running `zgrid` process (`name` in messages) once `ready` holds, and
        /// checks that the signal ends it, as it ends any Unix program, instead of leaving it
        /// serving after the Swift runtime's crash report.
        private func expectEndedBy(
            _ signal: Int32, _ arguments: [String], _ name: String, ready: @escaping @Sendable (String) -> Bool
        ) async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let log = directory.file("\(name).log")
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            // In the directory, where a core dump (where allowed) is removed with it.
            let process = try launchZGrid(arguments, standardError: FileHandle(forWritingAtPath: log), workingDirectory: directory.path)
            defer { endProcess(process) }
            try await waitUntil("\(name) running", seconds: 30) { ready(readText(log) ?? "") }
            kill(process.processIdentifier, signal)
            // The crash report comes first: it took several seconds on a loaded machine.
            let exited = try await waitForExit(process, seconds: 60)
            #expect(exited, "\(name) still runs 60 s after signal \(signal): \(readText(log) ?? "")")
            guard exited else { return }
            let bySignal = process.terminationReason == .uncaughtSignal && process.terminationStatus == signal
            #expect(
                bySignal || (signal == SIGSEGV && Self.sanitized),
                "\(name) ended by \(process.terminationReason == .exit ? "exit status" : "signal") \(process.terminationStatus)")
        }

        /// Whether the tests run in an AddressSanitizer build (`make test-asan` sets this; the suite
        /// does not run under ThreadSanitizer): there ASan's own SIGSEGV handler reports the signal
        /// and exits with a status, so only that the process ended is checked.
        private static var sanitized: Bool {
            ProcessInfo.processInfo.environment["LSAN_OPTIONS"] != nil
        }

        @Test("SIGABRT (systemd's watchdog) ends a serving zgrid worker by that signal, so that its supervisor restarts it")
        func abortEndsWorker() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            try await expectEndedBy(SIGABRT, ["worker", "--connect", broker.endpoints[0], "--function", "echo"], "the worker") { _ in
                broker.status.workers == 1
            }
        }

        @Test("SIGSEGV sent with kill ends a running zgrid broker by that signal")
        func segmentationSignalEndsBroker() async throws {
            let endpoint = "tcp://127.0.0.1:\(try freePort())"
            try await expectEndedBy(SIGSEGV, ["broker", "--bind", endpoint, "--job-store", ""], "the broker") { log in
                log.contains("broker listening")
            }
        }
    }
}
