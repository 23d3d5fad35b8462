import ArgumentParser
import Foundation
import Logging
import Synchronization

/// Runs child processes and restarts any that exit while the supervisor is running.
final class Supervisor: Sendable {
    /// One supervised process: its name and arguments to this executable.
    struct Child: Sendable {
        let name: String
        let arguments: [String]
    }

    private struct State {
        var processes: [Int: Process] = [:]
        var restarts: [Int: Int] = [:]
        /// Restarts since the child last ran for ``Supervisor/healthyRun``: what the restart delay grows with.
        var crashStreak: [Int: Int] = [:]
        var startedAt: [Int: Date] = [:]
        var stopping = false
        /// Set by ``Supervisor/force(grace:)``: when ``Supervisor/stop(grace:)`` kills what is left.
        var killAt: Date?
    }

    /// A child that ran at least this long before it ended is restarted after the shortest delay again.
    static let healthyRun: TimeInterval = 30

    private let children: [Child]
    private let executable: URL
    private let logger: Logger
    private let state = Mutex(State())

    /// Creates a supervisor for `children`, run as this same executable.
    init(children: [Child], logger: Logger) {
        self.children = children
        self.logger = logger
        executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    }

    /// Starts every child.
    func start() throws {
        for index in children.indices { try launch(index) }
    }

    /// How many times each child was restarted, by name.
    var restartCounts: [String: Int] {
        state.withLock { state in
            Dictionary(uniqueKeysWithValues: children.indices.map { (children[$0].name, state.restarts[$0, default: 0]) })
        }
    }

    /// The process ids of the running children, by name.
    var processIDs: [String: Int32] {
        state.withLock { state in
            Dictionary(uniqueKeysWithValues: state.processes.map { (children[$0.key].name, $0.value.processIdentifier) })
        }
    }

    private func launch(_ index: Int) throws {
        let process = Process()
        process.executableURL = executable
        process.arguments = children[index].arguments
        process.terminationHandler = { [weak self] finished in
            self?.exited(index, process: finished)
        }
        try process.run()
        state.withLock { state in
            state.processes[index] = process
            state.startedAt[index] = Date()
        }
        logger.info("started \(children[index].name) (pid \(process.processIdentifier))")
    }

    private func exited(_ index: Int, process: Process) {
        // Returns at once (the process has ended), and is what releases it: on Linux a Process
        // keeps itself alive until waitUntilExit(), so each restart would leak the one it replaced.
        process.waitUntilExit()
        let stopping = state.withLock { state -> Bool in
            if state.processes[index] === process { state.processes[index] = nil }
            return state.stopping
        }
        guard !stopping else { return }
        if process.terminationReason == .exit && process.terminationStatus == ExitCode.validationFailure.rawValue {
            // Its arguments or configuration are wrong: a restart would fail the same way.
            logger.error("\(children[index].name) exited with a usage error (status \(process.terminationStatus)); not restarting it")
            return
        }
        let streak = state.withLock { state -> Int in
            state.restarts[index, default: 0] += 1
            let ranFor = Date().timeIntervalSince(state.startedAt[index] ?? Date())
            state.crashStreak[index] = ranFor >= Self.healthyRun ? 1 : state.crashStreak[index, default: 0] + 1
            return state.crashStreak[index]!
        }
        let delay = min(5.0, 0.2 * Double(1 << min(streak - 1, 5)))
        let how =
            process.terminationReason == .uncaughtSignal
            ? "was killed by signal \(process.terminationStatus)" : "exited (status \(process.terminationStatus))"
        logger.warning("\(children[index].name) \(how); restarting in \(String(format: "%.1f", delay)) s")
        DispatchQueue.global().asyncAfter(deadline: .now() + delay) { [weak self] in
            guard let self, !self.state.withLock({ $0.stopping }) else { return }
            do { try self.launch(index) } catch { self.logger.error("cannot restart \(self.children[index].name): \(error)") }
        }
    }

    /// Sends SIGTERM to every child, waits up to `grace` seconds (less after ``force(grace:)``),
    /// then kills what is left.
    func stop(grace: Double = 10) {
        let running = state.withLock { state -> [Process] in
            state.stopping = true
            return Array(state.processes.values)
        }
        for process in running where process.isRunning { kill(process.processIdentifier, SIGTERM) }
        let deadline = Date().addingTimeInterval(grace)
        func killAt() -> Date { state.withLock { state in state.killAt.map { min($0, deadline) } ?? deadline } }
        while running.contains(where: \.isRunning) && Date() < killAt() { usleep(20_000) }
        for process in running where process.isRunning {
            logger.warning("killing pid \(process.processIdentifier), which did not stop in time")
            kill(process.processIdentifier, SIGKILL)
        }
        for process in running { process.waitUntilExit() }
    }

    /// Forces the children out, for a second Ctrl-C: no child is restarted any more, each gets
    /// SIGTERM (again, if ``stop(grace:)`` sent one already: a second one makes `zgrid worker`
    /// give up its running calls), and ``stop(grace:)`` kills those still running `grace` seconds
    /// from now.
    func force(grace: Double = 3) {
        let running = state.withLock { state -> [Process] in
            state.stopping = true
            state.killAt = Date().addingTimeInterval(grace)
            return Array(state.processes.values)
        }
        for process in running where process.isRunning { kill(process.processIdentifier, SIGTERM) }
    }
}
