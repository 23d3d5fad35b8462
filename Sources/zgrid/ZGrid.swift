import ArgumentParser
import Foundation
import ZGridClient
import ZGridConfig

/// The `zgrid` command line: run a broker, workers or a whole local cluster, and call functions.
@main
struct ZGrid: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zgrid",
        abstract: "A compute grid on ZeroMQ: remote function calls over a broker and worker nodes.",
        subcommands: [
            BrokerCommand.self, WorkerNodeCommand.self, CallCommand.self, ScatterCommand.self, SubmitCommand.self, JobsCommand.self,
            StatusCommand.self, TopCommand.self, DrainCommand.self, KeygenCommand.self, UpCommand.self, DemoCommand.self, BenchCommand.self,
            FuzzCommand.self, WatchCommand.self,
        ]
    )

    /// Parses and runs the subcommand, as `AsyncParsableCommand`'s own `main()` does, after
    /// catching SIGINT, SIGTERM, SIGHUP and SIGQUIT first thing: a command that stops on them its
    /// own way (``StopSignalHandling``) then gets even a signal that came while it was starting,
    /// instead of being killed by it, and ignores SIGPIPE; any other command gets their default
    /// actions back. The crash signals (SIGABRT, SIGSEGV…) end every command, also when sent with
    /// `kill`: see ``CrashSignals``.
    nonisolated static func main() async {
        StopSignals.install()
        CrashSignals.install()
        do {
            var command = try parseAsRoot()
            if type(of: command) is any StopSignalHandling.Type {
                // A reader of its output that went away (`zgrid broker 2>&1 | head`) must not end a
                // command that runs until it is stopped: its writes fail instead, and it runs on.
                signal(SIGPIPE, SIG_IGN)
            } else {
                StopSignals.restoreDefault()
            }
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as GridError {
            // The grid answered with an error, or no broker answered: status 2; an argument the
            // client refused before sending anything: 64. As every command that reports such an
            // error itself exits.
            FileOutput.standardError("Error: \(error)")
            exit(withError: ExitStatus.of(error))
        } catch let error as ConfigError {
            // The configuration file (or a key file it names) is wrong: EX_CONFIG, not a failure
            // of the run.
            FileOutput.standardError("Error: \(error)")
            exit(withError: ExitStatus.configuration)
        } catch {
            exit(withError: error)
        }
    }
}
