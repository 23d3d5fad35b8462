import Logging
import Synchronization
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZGridWorker

/// Loggers for the grid under benchmark: warnings and errors only, so that workers joining and
/// leaving do not interleave with the benchmark tool's output.
let quietLogger: Logger = {
    var logger = Logger(label: "zgrid.benchmarks")
    logger.logLevel = .warning
    return logger
}()

/// Why a fixture could not be built.
struct FixtureError: Error, CustomStringConvertible {
    /// What went wrong.
    let description: String
}

/// A real grid in this process: a broker on `tcp://127.0.0.1:0`, in-process workers and one client.
///
/// Built once per benchmark in its setup hook, outside the measured iterations, and stopped in
/// its teardown hook.
struct Cluster: Sendable {
    /// The broker.
    let server: BrokerServer
    /// The workers, each running in its own task.
    let workers: [Worker]
    /// The tasks running ``Worker/run()``.
    let runs: [Task<Void, Never>]
    /// The client the benchmarks call through.
    let client: GridClient

    /// Starts a broker and one worker per element of `workers` (each set up by its closure), waits
    /// until every worker has registered, then connects a client.
    static func start(workers setups: [(concurrency: Int, register: @Sendable (Worker) -> Void)]) async throws -> Cluster {
        let server = try BrokerServer.start(BrokerConfiguration(endpoints: ["tcp://127.0.0.1:0"]), logger: quietLogger)
        let endpoint = server.endpoints[0]
        var workers: [Worker] = []
        var runs: [Task<Void, Never>] = []
        for setup in setups {
            let worker = Worker(broker: endpoint, concurrency: setup.concurrency, logger: quietLogger)
            setup.register(worker)
            workers.append(worker)
            runs.append(
                Task {
                    do { try await worker.run() } catch { quietLogger.error("benchmark worker failed: \(error)") }
                })
        }
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(10)
        while server.status.workers < setups.count {
            guard clock.now < deadline else {
                for worker in workers { worker.stop() }
                server.stop()
                throw FixtureError(description: "only \(server.status.workers) of \(setups.count) workers registered within 10 s")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        let client = try GridClient(broker: endpoint, logger: quietLogger)
        return Cluster(server: server, workers: workers, runs: runs, client: client)
    }

    /// Two echo workers of concurrency 128 (as in `compare.sh`), serving `echo` inline on their I/O
    /// threads (as the built-in `echo` of `zgrid worker` does).
    static func echo() async throws -> Cluster {
        let cluster = try await start(
            workers: Array(
                repeating: (concurrency: 128, register: { @Sendable worker in
                    worker.registerInline("echo") { request in request.payload }
                }),
                count: 2))
        // One call end to end, so that a broken setup fails here rather than in the measurements.
        _ = try await cluster.client.call("echo", echoPayload, timeout: .seconds(10))
        return cluster
    }

    /// Four workers of concurrency 4 serving the sharded function `lookup` with `totalShards`
    /// shards: for 1 shard, worker 0 holds it; otherwise the shards are split evenly, in contiguous
    /// blocks. The handler answers the query with the shard number appended (on Swift's global
    /// executor, as the built-in `search` runs).
    static func sharded(totalShards: Int) async throws -> Cluster {
        let workerCount = 4
        var setups: [(concurrency: Int, register: @Sendable (Worker) -> Void)] = []
        for index in 0..<workerCount {
            let held: [Int]
            if totalShards < workerCount {
                held = index == 0 ? Array(0..<totalShards) : []
            } else {
                let perWorker = totalShards / workerCount
                held = Array(index * perWorker..<(index + 1) * perWorker)
            }
            let spec = ShardSpec(sortedIndices: held, total: totalShards)
            setups.append(
                (
                    concurrency: 4,
                    register: { @Sendable worker in
                        if held.isEmpty {
                            // A worker of the pool that holds no shard of this function still serves something.
                            worker.register("idle") { request in request.payload }
                        } else {
                            worker.register("lookup", shards: spec) { request in
                                request.payload + [UInt8(truncatingIfNeeded: request.shard ?? 0)]
                            }
                        }
                    }
                ))
        }
        let cluster = try await start(workers: setups)
        let result = try await cluster.client.scatter("lookup", scatterQuery, timeout: .seconds(10)).gathered()
        guard result.isComplete, result.replies.count == totalShards else {
            await cluster.stop()
            throw FixtureError(description: "the first scatter over \(totalShards) shards was incomplete: \(result.failures)")
        }
        return cluster
    }

    /// Closes the client, stops the workers gracefully and then the broker.
    func stop() async {
        await client.close()
        for worker in workers { worker.stop() }
        for run in runs { await run.value }
        server.stop()
    }
}

/// The payload of the echo benchmarks: 64 bytes.
let echoPayload = [UInt8](repeating: 0x5A, count: 64)

/// The query of the scatter benchmarks.
let scatterQuery = Array("kalo mine".utf8)

/// Holds what a benchmark's setup hook built, for its closure and its teardown hook.
final class Slot<Value: Sendable>: Sendable {
    private let value = Mutex<Value?>(nil)

    /// Creates an empty slot.
    init() {}

    /// What the slot holds.
    var current: Value? { value.withLock { $0 } }

    /// Stores `newValue`.
    func store(_ newValue: Value) { value.withLock { $0 = newValue } }

    /// Empties the slot and returns what it held.
    func take() -> Value? { value.withLock { $0.take() } }
}

/// Drives a ``BrokerCore`` directly, without sockets, through the events of one call: the
/// client's CALL and the worker's REPLY. Payload handles are plain integers.
final class CoreDriver {
    /// The state machine under measurement.
    private var core: BrokerCore
    /// One actions array, emptied (keeping its capacity) and reused for every event.
    private var actions: [BrokerAction] = []
    /// Monotonic milliseconds, advanced between calls so that deadline entries can be expired.
    private var now: Int64 = 0
    private var nextRequestID: UInt64 = 1
    private let client = PeerID([0x00, 0x6B, 0x8B, 0x45, 0x67])
    private let worker = PeerID([0x00, 0x6B, 0x8B, 0x45, 0x68])
    /// Each call's time limit: one millisecond, so that the tick after it drops its deadline entry.
    private let header = CallHeader(timeoutMilliseconds: 1)

    /// A core with one worker registered for `echo` (READY already handled).
    init() {
        core = BrokerCore(options: BrokerOptions(), now: now)
        actions.reserveCapacity(16)
        core.handle(
            .message(from: worker, .ready(concurrency: 8, functions: [ServiceDescriptor(name: "echo")])), now: now, into: &actions)
        actions.removeAll(keepingCapacity: true)
    }

    /// One call: CALL from the client, then the worker's REPLY. Returns false when the core did
    /// not route the call to the worker and the reply back to the client.
    func call() -> Bool {
        let requestID = nextRequestID
        nextRequestID &+= 1
        let handle = PayloadHandle(truncatingIfNeeded: requestID)
        core.handle(
            .message(from: client, .call(requestID: requestID, function: "echo", header: header, payload: handle)), now: now,
            into: &actions)
        var dispatchID: UInt64?
        for action in actions {
            if case .request(_, let id, _, _, _, _) = action { dispatchID = id }
        }
        actions.removeAll(keepingCapacity: true)
        guard let dispatchID else { return false }
        core.handle(.message(from: worker, .reply(dispatchID: dispatchID, payload: handle + 1)), now: now, into: &actions)
        var replied = false
        for action in actions {
            if case .reply(_, let id, _) = action, id == requestID { replied = true }
        }
        actions.removeAll(keepingCapacity: true)
        return replied
    }

    /// Lets time pass past the last call's deadline and ticks, as the broker loop does when the
    /// core's next wake-up comes: finished calls leave entries in the deadline heap until then.
    func tick() {
        now += 2
        core.handle(.tick, now: now, into: &actions)
        actions.removeAll(keepingCapacity: true)
    }
}
