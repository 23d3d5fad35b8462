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
        /// Set by ``Supervisor/force()``: when ``Supervisor/stop(grace:)`` kills what is left.
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

    /// Whether the supervisor is stopping (restarting no child any more).
    var isStopping: Bool { state.withLock { $0.stopping } }

    /// Stops restarting children that end, from now on: the first step of a stop, taken as soon as
    /// it is asked for.
    func stopRestarting() {
        state.withLock { $0.stopping = true }
    }

    /// Starts child `index`, unless the supervisor is stopping: started and recorded under the
    /// lock, so that a stop either finds the new process or keeps it from starting.
    private func launch(_ index: Int) throws {
        let process = Process()
        process.executableURL = executable
        process.arguments = children[index].arguments
        process.terminationHandler = { [weak self] finished in
            self?.exited(index, process: finished)
        }
        let started = try state.withLock { state -> Bool in
            guard !state.stopping else { return false }
            try process.run()
            state.processes[index] = process
            state.startedAt[index] = Date()
            return true
        }
        guard started else { return }
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
        if process.terminationReason == .exit && ExitStatus.failsAgain(process.terminationStatus) {
            // Its arguments or configuration are wrong: a restart would fail the same way.
            logger.error(
                "\(children[index].name) exited with a usage or configuration error (status \(process.terminationStatus)); not restarting it"
            )
            return
        }
        let ranHealthy = state.withLock { state -> Bool in
            state.restarts[index, default: 0] += 1
            return Date().timeIntervalSince(state.startedAt[index] ?? Date()) >= Self.healthyRun
        }
        let how =
            process.terminationReason == .uncaughtSignal
            ? "was killed by signal \(process.terminationStatus)" : "exited (status \(process.terminationStatus))"
        restartLater(index, "\(children[index].name) \(how)", ranHealthy: ranHealthy)
    }

    /// The delay before the restart of a child that ended `streak` times in a row: 0.2 s, doubling
    /// with each one up to 5 s.
    static func restartDelay(streak: Int) -> TimeInterval { min(5.0, 0.2 * Double(1 << min(max(streak, 1) - 1, 5))) }

    /// Logs `why` and starts child `index` again after its delay, which grows with each end (or
    /// failed start) in a row, unless it ran for ``healthyRun`` before it ended (`ranHealthy`).
    private func restartLater(_ index: Int, _ why: String, ranHealthy: Bool) {
        let streak = state.withLock { state -> Int? in
            guard !state.stopping else { return nil }
            state.crashStreak[index] = ranHealthy ? 1 : state.crashStreak[index, default: 0] + 1
            return state.crashStreak[index]
        }
        guard let streak else { return }
        let delay = Self.restartDelay(streak: streak)
        let often = streak > 1 ? " (\(streak) times in a row)" : ""
        logger.warning("\(why); restarting in \(String(format: "%.1f", delay)) s\(often)")
        DispatchQueue.global().asyncAfter(deadline: .now() + delay) { [weak self] in self?.relaunch(index) }
    }

    /// Starts child `index` again; one that cannot be started (its executable is missing for a
    /// moment, as while `zgrid` is rebuilt, or no process can be made) is tried again later, as a
    /// crash would be: a crash loop is never given up.
    private func relaunch(_ index: Int) {
        do {
            try launch(index)
        } catch {
            let reason = (error as NSError).localizedDescription
            restartLater(index, "cannot start \(children[index].name) from \(executable.path): \(reason)", ranHealthy: false)
        }
    }

    /// How long after forcing the children out (a second SIGTERM) the supervisor kills one still
    /// running: past the time a forced `zgrid worker` takes at most before it exits on its own.
    static let forcedKillDelay: TimeInterval = WorkerNodeCommand.forcedExitSeconds + 2

    /// The shortest grace ``stop(grace:)`` waits before it forces the children out, and how long it
    /// waits before its SIGTERM when ``force()`` came first.
    static let leastGrace: TimeInterval = 0.2

    /// Stops the children gracefully: sends each SIGTERM and waits up to `grace` seconds for them
    /// (their running calls finish); then forces out those still running (``force()``), and kills
    /// those still running ``forcedKillDelay`` seconds after that. A ``force()`` meanwhile ends
    /// the grace at once.
    func stop(grace: TimeInterval) {
        let (running, forcedFirst) = state.withLock { state -> ([(name: String, process: Process)], Bool) in
            state.stopping = true
            return (state.processes.sorted { $0.key < $1.key }.map { (children[$0.key].name, $0.value) }, state.killAt != nil)
        }
        // After a force (SIGQUIT as the first signal), this SIGTERM must come after the force's
        // one has reached the children, not merge with it.
        if forcedFirst { usleep(useconds_t(Self.leastGrace * 1_000_000)) }
        for (_, process) in running where process.isRunning { kill(process.processIdentifier, SIGTERM) }
        func stillRunning() -> Bool { running.contains { $0.process.isRunning } }
        func forcedAt() -> Date? { state.withLock { $0.killAt } }
        // Not less than a moment: a second SIGTERM sent before the first reached its child would
        // merge with it, and the child would not be forced out.
        let graceEnds = Date().addingTimeInterval(max(grace, Self.leastGrace))
        while stillRunning() && Date() < graceEnds && forcedAt() == nil { usleep(20_000) }
        if stillRunning() && forcedAt() == nil {
            let names = running.filter { $0.process.isRunning }.map(\.name).joined(separator: ", ")
            logger.warning(
                "\(names) still running at the end of the shutdown grace (\(Self.seconds(grace)) s); forcing them out")
            force()
        }
        let killAt = forcedAt() ?? Date()
        while stillRunning() && Date() < killAt { usleep(20_000) }
        for (name, process) in running where process.isRunning {
            logger.warning("killing \(name), pid \(process.processIdentifier), which did not stop in time")
            kill(process.processIdentifier, SIGKILL)
        }
        for (_, process) in running { process.waitUntilExit() }
    }

    /// Forces the children out, for a second Ctrl-C or the end of the shutdown grace: no child is
    /// restarted any more, each gets SIGTERM (again, if ``stop(grace:)`` sent one already: a second
    /// one makes `zgrid worker` give up its running calls, which fail as shutting down), and
    /// ``stop(grace:)`` kills those still running ``forcedKillDelay`` seconds from now. Returns
    /// whether it did so: only the first call does.
    @discardableResult
    func force() -> Bool {
        let running = state.withLock { state -> [Process]? in
            state.stopping = true
            guard state.killAt == nil else { return nil }
            state.killAt = Date().addingTimeInterval(Self.forcedKillDelay)
            return Array(state.processes.values)
        }
        guard let running else { return false }
        for process in running where process.isRunning { kill(process.processIdentifier, SIGTERM) }
        return true
    }

    /// `seconds` for logs: whole seconds without a fraction, others with one decimal.
    private static func seconds(_ seconds: TimeInterval) -> String {
        seconds == seconds.rounded() ? "\(Int(seconds))" : String(format: "%.1f", seconds)
    }
}
