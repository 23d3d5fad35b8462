import Foundation
import Testing
import ZGridBroker

extension IntegrationTests {
    @Suite(
        "zgrid processes and the crash signals", .serialized, .timeLimit(.minutes(3)),
        .disabled(
            if: underSanitizer,
            "a sanitizer's own signal handling replaces what these tests check, the Swift runtime's crash handler: under TSan a zgrid process sent SIGABRT ended by SIGSEGV or not at all, and under ASan the runtime's crash report tripped ASan and the worker did not end"
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
            #expect(
                process.terminationReason == .uncaughtSignal && process.terminationStatus == signal,
                "\(name) ended by \(process.terminationReason == .exit ? "exit status" : "signal") \(process.terminationStatus)")
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
