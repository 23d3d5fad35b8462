import Foundation
import Logging
import Synchronization
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZGridWorker
import ZeroMQ

/// Every integration suite runs inside this one, one test at a time: they start real brokers and
/// workers, and on a 2-core machine parallel suites would starve each other's heartbeats.
@Suite(.serialized) enum IntegrationTests {}

/// Short heartbeats so that loss is detected within a few hundred milliseconds in tests.
let testHeartbeat = HeartbeatSettings(intervalMilliseconds: 200, liveness: 4)

/// A logger that prints warnings and worse only.
func quietLogger(_ label: String) -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = .warning
    return logger
}

/// Starts a broker on a free loopback port (with a job store when `jobStore` names a file).
func startBroker(
    endpoint: String = "tcp://127.0.0.1:0", graceMilliseconds: Int64 = 300, maxMessageBytes: Int = 1 << 20,
    maxQueuedPerFunction: Int = 100_000, context: Context? = nil, jobStore: String? = nil, maxResidentJobs: Int = 100_000,
    maxFrames: Int = 64, heartbeat: HeartbeatSettings = testHeartbeat, schedules: [RecurringJob] = [],
    maxInFlightPerClient: Int = 10_000, functions: [String: FunctionPolicy] = [:], events: EventHubOptions = .init(),
    maxStoreWritesWaiting: Int = BrokerOptions().maxStoreWritesWaiting
) throws -> BrokerServer {
    var options = BrokerOptions(
        heartbeat: heartbeat, defaultTimeoutMilliseconds: 10_000, unknownFunctionGraceMilliseconds: graceMilliseconds,
        maxQueuedPerFunction: maxQueuedPerFunction, schedules: schedules, maxResidentJobs: maxResidentJobs)
    options.maxInFlightPerClient = maxInFlightPerClient
    options.functions = functions
    options.maxStoreWritesWaiting = maxStoreWritesWaiting
    var configuration = BrokerConfiguration(
        endpoints: [endpoint], options: options, maxMessageBytes: maxMessageBytes, maxFrames: maxFrames, jobStorePath: jobStore)
    configuration.shutdownGraceMilliseconds = 1000
    configuration.events = events
    return try BrokerServer.start(configuration, context: context, logger: quietLogger("test.broker"))
}

/// Starts a broker on `endpoint` right after another one there stopped. The old listener may
/// release the port a moment after its broker's ``BrokerServer/stop()`` returns (libzmq closes it
/// on its own thread), so a refused bind is tried again, for up to half a second.
func restartBroker(
    endpoint: String, graceMilliseconds: Int64 = 300, maxMessageBytes: Int = 1 << 20, jobStore: String? = nil,
    events: EventHubOptions = .init(), schedules: [RecurringJob] = []
) async throws -> BrokerServer {
    let deadline = ContinuousClock.now + .milliseconds(500)
    while true {
        do {
            return try startBroker(
                endpoint: endpoint, graceMilliseconds: graceMilliseconds, maxMessageBytes: maxMessageBytes, jobStore: jobStore,
                schedules: schedules, events: events)
        } catch BrokerError.bindFailed where ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// A fresh temporary directory, removed by ``TemporaryDirectory/remove()``.
struct TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "zgrid-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// A path inside the directory.
    func file(_ name: String) -> String { path + "/" + name }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// A free loopback TCP port (bound and released; good enough for a test).
func freePort() throws -> Int {
    let context = try Context()
    let socket = try Socket(context, type: .router)
    try socket.bind("tcp://127.0.0.1:0")
    let endpoint = try socket.lastEndpoint()
    guard let port = Int(endpoint.split(separator: ":").last ?? "") else { throw LaunchError(message: "no port in \(endpoint)") }
    return port
}

/// A worker running in a task, stopped by ``stop()``.
struct RunningWorker {
    let worker: Worker
    let task: Task<Void, any Error>

    /// Stops the worker gracefully and waits for it.
    func stop() async {
        worker.stop()
        _ = await task.result
    }
}

/// Makes a worker, lets `setup` register functions, runs it and waits until the broker counts it.
func startWorker(
    _ broker: BrokerServer, endpoint: String? = nil, concurrency: Int = 8, context: Context? = nil,
    heartbeat: HeartbeatSettings = testHeartbeat, drainTimeoutMilliseconds: Int64 = 5_000, _ setup: (Worker) -> Void
) async throws -> RunningWorker {
    let before = broker.status.statistics.workersJoined
    let worker = Worker(
        broker: endpoint ?? broker.endpoints[0], concurrency: concurrency, heartbeat: heartbeat,
        drainTimeoutMilliseconds: drainTimeoutMilliseconds, context: context, logger: quietLogger("test.worker"))
    setup(worker)
    let task = Task { try await worker.run() }
    try await waitUntil("worker registered") { broker.status.statistics.workersJoined > before }
    return RunningWorker(worker: worker, task: task)
}

/// Polls `condition` every 10 ms until it holds; fails the test after `seconds`.
func waitUntil(_ what: String, seconds: Double = 10, _ condition: () -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() {
        if Date() > deadline {
            Issue.record("timed out after \(seconds) s waiting for: \(what)")
            throw TestTimeout(what: what)
        }
        try await Task.sleep(for: .milliseconds(10))
    }
}

/// The status of the broker `client` connects to, once one answers; asked again until `seconds`
/// pass. A client made before its broker process listens fails a request as unreachable when no
/// broker has answered within its heartbeat expiry of its start (800 ms with ``testHeartbeat``),
/// which a process starting on a loaded machine, and the client's reconnect (up to 500 ms after
/// the broker listens), may take longer than.
func answeredStatus(_ client: GridClient, seconds: Double = 20) async throws -> StatusReport {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while true {
        switch await outcome({ () async throws(GridError) in try await client.brokerStatus() }) {
        case .success(let status): return status
        case .failure(.brokerUnreachable) where ContinuousClock.now < deadline: try await Task.sleep(for: .milliseconds(50))
        case .failure(let error): throw error
        }
    }
}

/// A wait in a test ran out of time.
struct TestTimeout: Error {
    let what: String
}

/// Runs blocking socket code on its own thread and returns its result.
func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    let box = Mutex<T?>(nil)
    let thread = IOThread(name: "test-peer") { box.withLock { $0 = body() } }
    await thread.finished()
    return box.withLock { $0! }
}

/// Counts how many handlers run at once and the highest count seen.
final class ConcurrencyGauge: Sendable {
    private let state = Mutex<(now: Int, peak: Int)>((0, 0))

    func enter() {
        state.withLock {
            $0.now += 1; $0.peak = max($0.peak, $0.now)
        }
    }
    func leave() { state.withLock { $0.now -= 1 } }
    var peak: Int { state.withLock { $0.peak } }
}

/// A thread-safe counter.
final class Counter: Sendable {
    private let value = Mutex(0)
    func increment() { value.withLock { $0 += 1 } }
    func reset() { value.withLock { $0 = 0 } }
    var count: Int { value.withLock { $0 } }
}

/// A thread-safe set of ids (of jobs, say) collected by concurrent tasks.
final class IDCollector: Sendable {
    private let ids = Mutex<Set<UInt64>>([])
    func insert(_ id: UInt64) { ids.withLock { _ = $0.insert(id) } }
    var count: Int { ids.withLock { $0.count } }
    var all: Set<UInt64> { ids.withLock { $0 } }
}

/// A gate handlers wait at until the test opens it; the wait ignores cancellation, as a handler
/// stuck in blocking work would.
final class Gate: Sendable {
    private let state = Mutex<(isOpen: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    /// Waits until ``open()`` (returns at once after it).
    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let passes = state.withLock { state -> Bool in
                if state.isOpen { return true }
                state.waiters.append(continuation)
                return false
            }
            if passes { continuation.resume() }
        }
    }

    /// Lets every waiter, and all later ones, through.
    func open() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.isOpen = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// Bytes of a string.
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// The big-endian `UInt64` in an 8-byte frame (an id on the wire); a frame of another length reads
/// as some other number, for the test's expectation to catch, instead of trapping.
func uint64(_ frame: [UInt8]) -> UInt64 { frame.reduce(0) { $0 << 8 | UInt64($1) } }

/// The text of the file at `path` (UTF-8), or nil when it cannot be opened.
///
/// Not `String(contentsOfFile:)`: on Linux, Foundation leaks its 4 KiB read buffer when a file
/// reads empty, as an empty output file or most `/proc/PID/task/TID/children` files do.
func readText(_ path: String) -> String? {
    guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
    defer { try? handle.close() }
    do { return String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self) } catch { return nil }
}

/// The broker's status once it has published everything it did so far (it publishes every 20 ms).
func settledStatus(_ broker: BrokerServer) async throws -> BrokerSnapshot {
    try await Task.sleep(for: .milliseconds(60))
    return broker.status
}

/// The broker's count `counter` once it has reached `target` (waited for up to 10 s) and the
/// broker has published everything it did so far, for a test to compare with `target`: a more
/// shows, and a fewer only after the wait. On a loaded machine the broker's loop may publish
/// later than the 60 ms ``settledStatus(_:)`` allows for.
func settledCount(_ broker: BrokerServer, _ counter: KeyPath<BrokerStatistics, Int>, reaching target: Int) async throws -> Int {
    try await waitUntilQuietly(seconds: 10) { broker.status.statistics[keyPath: counter] >= target }
    return try await settledStatus(broker).statistics[keyPath: counter]
}

/// Checks that every one of `calls` failed as shutting down, answered by a worker stopped by force.
func expectForcedOut(_ calls: [Task<Result<[UInt8], GridError>, Never>]) async {
    for call in calls {
        let result = await call.value
        guard case .failure(.shuttingDown(let message)) = result else {
            Issue.record("expected shuttingDown, got \(result)")
            continue
        }
        #expect(message.contains("by force"), "\(message)")
    }
}

/// The outcome of `body` as a value.
func outcome<T>(_ body: () async throws(GridError) -> T) async -> Result<T, GridError> {
    do { return .success(try await body()) } catch { return .failure(error) }
}
