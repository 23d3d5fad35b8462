import ArgumentParser

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
}
