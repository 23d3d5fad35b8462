import ArgumentParser
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// For a command that waits on a request it made (`zgrid call`, `zgrid scatter`): the first
/// SIGINT, SIGTERM or SIGHUP cancels the wait, so that the client sends CANCEL and the broker
/// drops the request and has its handlers cancelled, instead of leaving it to run until the broker
/// notices the client is gone; the signal is kept for the exit status. A second one, or SIGQUIT,
/// ends the process at once, as the signal's default action does.
final class SignalCancellation: Sendable {
    private let caught = Atomic<Int32>(0)

    /// Hands the stop signals (also one caught while the command started) to this cancellation:
    /// the first calls `cancel`. Create one per process.
    init(cancel: @escaping @Sendable () -> Void) {
        StopSignals.handle { [self] number, count in
            guard count == 1, number != StopSignals.forcing else {
                Self.endAsDefault(number)
                return
            }
            caught.store(number, ordering: .relaxed)
            cancel()
        }
    }

    /// The signal that cancelled the wait, if one did.
    var signal: Int32? {
        let number = caught.load(ordering: .relaxed)
        return number == 0 ? nil : number
    }

    /// The exit status of a command stopped by `signal`: 128 plus its number, as a shell reports
    /// a process that the signal ended.
    private static func exitCode(_ signal: Int32) -> ExitCode { ExitCode(128 + signal) }

    /// Reports on standard error, after `command`, how the wait for `what` ended with `error`, and
    /// returns the exit status: the signal's when one cancelled it, otherwise the error's (see
    /// ``ExitStatus``).
    func failure(_ error: any Error, command: String, what: String) -> ExitCode {
        if let signal {
            FileOutput.standardError("\(command): \(StopSignals.name(signal)): the \(what) was cancelled")
            return Self.exitCode(signal)
        }
        FileOutput.standardError("\(command): \(error)")
        return ExitStatus.of(caught: error)
    }

    /// Ends the process as `number`'s default action does.
    private static func endAsDefault(_ number: Int32) {
        #if canImport(Glibc)
            _ = Glibc.signal(number, SIG_DFL)
        #else
            _ = Darwin.signal(number, SIG_DFL)
        #endif
        kill(getpid(), number)
    }
}
