import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import ZGridProtocol

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A command that stops on SIGINT, SIGTERM and SIGHUP its own way (gracefully on the first, by
/// force on the second), and by force on SIGQUIT, through ``StopSignals/handle(_:)``. Other
/// commands keep the default actions: the signal ends them at once.
protocol StopSignalHandling {}

/// SIGINT, SIGTERM, SIGHUP and SIGQUIT for the commands that run until they are stopped (`zgrid
/// worker`, `broker` and `up`) and those that cancel what they wait for (`call`, `scatter`: see
/// ``SignalCancellation``). SIGHUP (the terminal was closed) counts as SIGTERM; SIGQUIT forces
/// the stop at once, as a second signal does. SIGHUP or SIGQUIT ignored as the process starts
/// (`nohup`; a shell's background job) stays ignored.
///
/// SIGQUIT needs catching even where nothing else would: the Swift runtime catches it (with the
/// crash signals) to print a crash report with backtraces, then returns from its handler with the
/// signal's default action restored, expecting a fault to strike again. A SIGQUIT sent with
/// `kill` does not come again: the process printed "Program crashed" and ran on. The commands that
/// do not handle it get its default action back (quit, with a core dump where allowed).
///
/// ``install()`` runs first thing in `main`, so that a signal that comes while the command still
/// starts (reading its configuration, connecting) does not kill the process: it is caught and
/// kept until the command hands over its handler with ``handle(_:)``, which then gets it. A
/// command that does not stop its own way calls ``restoreDefault()`` instead, and a signal caught
/// meanwhile then ends it as it would have without the handler.
///
/// The signal handler only writes the signal's number to a pipe (which is async-signal-safe); a
/// thread reads the pipe and runs the command's handler.
enum StopSignals {
    /// The signals handled.
    static let numbers: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT]
    /// The signals left alone when they are ignored as the process starts: `nohup` ignores SIGHUP
    /// so that the command outlives its terminal, a shell without job control ignores SIGQUIT
    /// (and SIGINT, which is caught regardless) for a background job.
    static let keptIgnored: Set<Int32> = [SIGHUP, SIGQUIT]
    /// The signal that forces a stop at once, even as the first one.
    static let forcing = SIGQUIT

    private struct State {
        var installed = false
        var handling = false
        var readEnd: Int32 = -1
        var previous: [Int32: sigaction] = [:]
    }

    private static let state = Mutex(State())

    /// Catches the signals handled from now on (but those of ``keptIgnored`` that are ignored). Call
    /// it first in `main`, before any other thread starts.
    static func install() {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return }
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        // The handler must never block: past the pipe's capacity (thousands of signals), drop them.
        _ = fcntl(ends[1], F_SETFL, fcntl(ends[1], F_GETFL) | O_NONBLOCK)
        stopSignalWriteEnd = ends[1]
        var action = sigaction()
        #if os(Linux)
            action.__sigaction_handler.sa_handler = stopSignalCaught
        #else
            action.__sigaction_u.__sa_handler = stopSignalCaught
        #endif
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        var previous: [Int32: sigaction] = [:]
        for number in numbers {
            var old = sigaction()
            guard sigaction(number, nil, &old) == 0 else { continue }
            if keptIgnored.contains(number) && isIgnored(old) { continue }
            if sigaction(number, &action, nil) == 0 { previous[number] = old }
        }
        state.withLock { state in
            state.installed = true
            state.readEnd = ends[0]
            state.previous = previous
        }
    }

    /// Gives the signals caught back their default actions, for a command that does not handle
    /// them (not the Swift runtime's crash report on SIGQUIT: see ``StopSignals``); a signal caught
    /// since ``install()`` is sent again, to take that effect now.
    static func restoreDefault() {
        let (readEnd, previous) = state.withLock { state -> (Int32, [Int32: sigaction]) in
            guard state.installed && !state.handling else { return (-1, [:]) }
            state.installed = false
            return (state.readEnd, state.previous)
        }
        guard readEnd >= 0 else { return }
        for (number, action) in previous {
            // Ignored stays ignored; a former handler can only be the Swift runtime's crash
            // report on SIGQUIT, which does not end the process.
            var action = action
            if isIgnored(action) { sigaction(number, &action, nil) } else { signal(number, SIG_DFL) }
        }
        var item = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
        var number: UInt8 = 0
        if poll(&item, 1, 0) > 0, read(readEnd, &number, 1) == 1 {
            // To the process, not this thread (which may block the signal).
            kill(getpid(), Int32(number))
        }
    }

    /// Hands the signals caught to `handler`, on a thread of their own: it gets the signal's
    /// number and how many of them came so far (1 for the first), first for those caught since
    /// ``install()``, then for each one that comes. Call it once.
    static func handle(_ handler: @escaping @Sendable (_ signal: Int32, _ count: Int) -> Void) {
        let readEnd = state.withLock { state -> Int32 in
            guard state.installed && !state.handling else { return -1 }
            state.handling = true
            return state.readEnd
        }
        guard readEnd >= 0 else { return }
        let thread = Thread {
            IOThread.nameCurrentThread("zgrid-signals")
            var count = 0
            var number: UInt8 = 0
            while true {
                let result = read(readEnd, &number, 1)
                if result == 1 {
                    count += 1
                    handler(Int32(number), count)
                } else if result < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
        thread.start()
    }

    /// Stops `group` gracefully on the first signal caught, logging `first` after the signal's
    /// name; calls `force` with the name of the second one, or of a first one that is ``forcing``
    /// (which also starts the graceful stop of `group`, for the services that still run). Later
    /// signals are only logged, at debug level: the stop is forced already. Call it once.
    static func stopGracefully(
        _ group: ServiceGroup, logger: Logger, first: String, force: @escaping @Sendable (_ name: String) -> Void
    ) {
        let forced = Mutex(false)
        handle { signal, count in
            let name = Self.name(signal)
            if count == 1 {
                Task { await group.triggerGracefulShutdown() }
                guard signal == forcing else {
                    logger.info("\(name): \(first)")
                    return
                }
            }
            let isFirstForcing = forced.withLock { forced -> Bool in
                defer { forced = true }
                return !forced
            }
            guard isFirstForcing else {
                logger.debug("\(name): the stop is forced already")
                return
            }
            force(name)
        }
    }

    /// Whether `action` ignores its signal.
    private static func isIgnored(_ action: sigaction) -> Bool {
        #if os(Linux)
            let handler = action.__sigaction_handler.sa_handler
        #else
            let handler = action.__sigaction_u.__sa_handler
        #endif
        return unsafeBitCast(handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)
    }

    /// The name of a signal handled, for logs.
    static func name(_ number: Int32) -> String {
        switch number {
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        case SIGHUP: "SIGHUP"
        case SIGQUIT: "SIGQUIT"
        default: "signal \(number)"
        }
    }
}

/// Where the signal handler writes: the pipe's write end, set before the handler is installed.
/// A plain global with a constant initial value, so that reading it in the handler runs no lazy
/// initialization.
nonisolated(unsafe) private var stopSignalWriteEnd: Int32 = -1

/// The signal handler: async-signal-safe, it only writes the signal's number to the pipe.
private func stopSignalCaught(_ number: Int32) {
    let saved = errno
    var byte = UInt8(truncatingIfNeeded: number)
    _ = write(stopSignalWriteEnd, &byte, 1)
    errno = saved
}
