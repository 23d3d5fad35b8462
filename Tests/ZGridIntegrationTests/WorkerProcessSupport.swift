import Foundation
import ZGridBroker
import ZGridClient

/// A `zgrid worker` process serving `sleep` for a broker in this process, with a client of
/// that broker.
struct WorkerProcess {
    let broker: BrokerServer
    let process: Process
    let client: GridClient
    /// The worker's log file.
    let log: String

    /// A `sleep` call of `milliseconds`, once it runs on the worker.
    func runningSleep(milliseconds: Int) async throws -> Task<Result<[UInt8], GridError>, Never> {
        let client = self.client
        let call = Task {
            await outcome { () async throws(GridError) in
                try await client.call("sleep", bytes("\(milliseconds)"), timeout: .seconds(90))
            }
        }
        try await waitUntil("call running") { broker.status.callsInFlight == 1 }
        try await Task.sleep(for: .milliseconds(100))
        return call
    }
}

/// Runs `body` with a ``WorkerProcess`` (given `options` besides its own; its broker with
/// `heartbeat`) once the worker registered; ends it all afterwards.
func withWorkerProcess(
    options: [String] = [], heartbeat: HeartbeatSettings = testHeartbeat, _ body: (WorkerProcess) async throws -> Void
) async throws {
    let broker = try startBroker(heartbeat: heartbeat)
    defer { broker.stop() }
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let log = directory.file("worker.log")
    _ = FileManager.default.createFile(atPath: log, contents: nil)
    let process = try launchZGrid(
        ["worker", "--connect", broker.endpoints[0], "--function", "sleep", "--log-level", "info"] + options,
        standardError: FileHandle(forWritingAtPath: log))
    defer { endProcess(process) }
    try await waitUntil("worker process registered", seconds: 30) { broker.status.workers == 1 }
    let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
    try await body(WorkerProcess(broker: broker, process: process, client: client, log: log))
    await client.close()
}
