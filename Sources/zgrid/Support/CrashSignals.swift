#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// SIGABRT, SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGTRAP end the process with the signal, also
/// when another process sends them (`kill -ABRT`, systemd's watchdog).
///
/// The Swift runtime catches these signals to print a crash report with backtraces, then returns
/// from its handler with their default actions restored, expecting the fault to strike again. A
/// signal sent with `kill` does not come again: the process printed its crash report and ran on,
/// so a supervisor (systemd, `zgrid up`) never saw it end and could not restart it. ``install()``
/// puts a handler in front of the runtime's: it lets the runtime print its report, then sends
/// the signal again with its default action, which ends the process as any Unix program ends
/// (with a core dump where allowed). A signal whose action is not the runtime's handler (the
/// crash report is turned off: `SWIFT_BACKTRACE=enable=no`) is left alone.
///
/// SIGQUIT, which the runtime catches too, is a stop signal of the commands: see ``StopSignals``.
enum CrashSignals {
    /// The signals handled.
    static let numbers: [Int32] = [SIGABRT, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP]

    /// Puts the handler in front of the runtime's for each of ``numbers``. Call it once, first in
    /// `main`, before any other thread starts.
    static func install() {
        guard crashSignalPreviousActions == nil else { return }
        // Read by the signal handler, so never freed nor resized: one entry per signal number.
        let previous = UnsafeMutablePointer<sigaction>.allocate(capacity: Int(crashSignalSlots))
        previous.initialize(repeating: sigaction(), count: Int(crashSignalSlots))
        crashSignalPreviousActions = previous
        for number in numbers where number < crashSignalSlots {
            var old = sigaction()
            guard sigaction(number, nil, &old) == 0, hasHandler(old) else { continue }
            previous[Int(number)] = old
            // The runtime's flags and mask, as its handler expects them: with SA_NODEFER, the
            // signal is not blocked while it prints its report, in this thread nor in the thread it
            // starts to read memory for the report (which catches SIGSEGV for an unreadable
            // address: blocked, that fault would end the process before the report is done).
            var action = old
            #if os(Linux)
                action.__sigaction_handler.sa_sigaction = crashSignalCaught
            #else
                action.__sigaction_u.__sa_sigaction = crashSignalCaught
            #endif
            action.sa_flags |= SA_SIGINFO
            sigaction(number, &action, nil)
        }
    }

    /// Whether `action` runs a handler: neither the default action nor ignoring the signal.
    private static func hasHandler(_ action: sigaction) -> Bool {
        #if os(Linux)
            let handler = unsafeBitCast(action.__sigaction_handler.sa_handler, to: Int.self)
        #else
            let handler = unsafeBitCast(action.__sigaction_u.__sa_handler, to: Int.self)
        #endif
        return handler != unsafeBitCast(SIG_DFL, to: Int.self) && handler != unsafeBitCast(SIG_IGN, to: Int.self)
    }
}

/// The number of entries of ``crashSignalPreviousActions``: every signal of ``CrashSignals/numbers`` is below it.
private let crashSignalSlots: Int32 = 32

/// The actions the handler replaced, by signal number, set before it is installed. A plain global
/// with a constant initial value, so that reading it in the handler runs no lazy initialization.
nonisolated(unsafe) private var crashSignalPreviousActions: UnsafeMutablePointer<sigaction>? = nil

/// The signal handler: runs the handler it replaced (the runtime's crash report), then restores
/// the signal's default action and sends it again, which ends the process (the signal is not
/// blocked: see ``CrashSignals/install()``).
private func crashSignalCaught(_ number: Int32, _ info: UnsafeMutablePointer<siginfo_t>?, _ context: UnsafeMutableRawPointer?) {
    if let previous = crashSignalPreviousActions, number >= 0, number < crashSignalSlots {
        let action = previous[Int(number)]
        #if os(Linux)
            if action.sa_flags & SA_SIGINFO != 0 {
                action.__sigaction_handler.sa_sigaction?(number, info, context)
            } else {
                action.__sigaction_handler.sa_handler?(number)
            }
        #else
            if action.sa_flags & SA_SIGINFO != 0 {
                action.__sigaction_u.__sa_sigaction?(number, info, context)
            } else {
                action.__sigaction_u.__sa_handler?(number)
            }
        #endif
    }
    signal(number, SIG_DFL)
    raise(number)
}
