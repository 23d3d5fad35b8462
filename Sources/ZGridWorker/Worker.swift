import Foundation
import Logging
import Synchronization
import ZGridProtocol
import ZeroMQ

/// A worker node: serves registered functions to a broker, running up to `concurrency` handlers at
/// once on Swift concurrency.
///
/// ```swift
/// let worker = Worker(broker: "tcp://127.0.0.1:5555", concurrency: 8)
/// worker.register("echo") { request in request.payload }
/// try await worker.run()   // until stop() or the task is cancelled
/// ```
public final class Worker: Sendable {
    /// The broker endpoint the worker connects to.
    public let broker: String
    /// How many handlers run at once; the credit announced to the broker.
    public let concurrency: Int
    /// Heartbeat interval and liveness towards the broker.
    public let heartbeat: HeartbeatSettings
    /// How long a graceful stop waits for running handlers, in milliseconds, before it forces them
    /// out as ``stop(force:)`` does (their calls fail as shutting down); 0 forces them out at once.
    /// Clamped to 0...``ZGridProtocol/SettingBounds/maxMilliseconds``.
    public let drainTimeoutMilliseconds: Int64
    /// How long a handler may keep running after it was cancelled (at its time limit, or on the
    /// broker's CANCEL) before it counts as stuck, in milliseconds. A stuck handler keeps its slot;
    /// when every slot is held by a stuck handler, ``run()`` throws ``WorkerError/allSlotsStuck(_:)``.
    /// At least 1: the initialiser raises a smaller value to 1, since at 0 a handler would count as
    /// stuck the moment it is cancelled, before it could end. `Int64.max` turns the stuck check off.
    public let stuckGraceMilliseconds: Int64
    private let logger: Logger
    private let gauges = WorkerGauges()
    private let sharedContext: Context?
    private let security: PeerSecurity?
    private let handlers = Mutex<[String: Registration]>([:])
    /// The first name registered twice before ``run()``, which then throws for it.
    private let duplicate = Mutex<String?>(nil)
    private let state = Mutex<RunState>(.idle)

    private enum RunState {
        case idle
        case running(Mailbox<WorkerCommandItem>)
        case stopRequested
        case finished
    }

    /// The most functions one worker may serve: READY must fit the broker's default frame limit (64).
    public static let maxFunctions = 56

    /// Creates a worker for `broker` (a ZeroMQ endpoint such as `tcp://127.0.0.1:5555`).
    /// Pass the broker's `context` to reach it over `inproc://`.
    public init(
        broker: String, concurrency: Int = 8, heartbeat: HeartbeatSettings = .init(),
        drainTimeoutMilliseconds: Int64 = 30_000, stuckGraceMilliseconds: Int64 = 5_000, context: Context? = nil,
        security: PeerSecurity? = nil, logger: Logger = Logger(label: "zgrid.worker")
    ) {
        self.sharedContext = context
        self.security = security
        self.broker = broker
        self.concurrency = min(max(1, concurrency), BrokerInbound.maxConcurrency)
        self.heartbeat = heartbeat
        self.drainTimeoutMilliseconds = SettingBounds.milliseconds(drainTimeoutMilliseconds)
        self.stuckGraceMilliseconds = max(1, stuckGraceMilliseconds)
        self.logger = logger
    }

    /// Serves `name` with a handler over raw bytes. Register before ``run()``: a later registration
    /// is dropped, with a warning. Each name takes one registration, of any kind: ``run()`` throws
    /// ``WorkerError/duplicateFunction(_:)`` for a name registered twice.
    ///
    /// With `shards`, the function is sharded: the worker holds those shards, a scatter sends it
    /// one request per shard it holds (``WorkerRequest/shard``), and other workers may hold the
    /// same shards as replicas.
    public func register(
        _ name: String, shards: ShardSpec? = nil, execution: HandlerExecution = .concurrent, _ handler: @escaping WorkerHandler
    ) {
        add(name, Registration(body: .single(handler), execution: execution, shards: shards))
    }

    /// Serves `name` with a synchronous handler over raw bytes that runs inline on the worker's I/O
    /// thread, the moment its REQUEST is read: no task is created and no thread switched, so it is
    /// the cheapest way to serve a function that finishes in microseconds (an echo, a lookup in
    /// memory). While it runs the worker reads and sends nothing, so it must never block or run
    /// long. It has finished before a cancel or a time limit could reach it, and its progress
    /// reports are ignored. `shards` as in ``register(_:shards:execution:_:)``. Register before
    /// ``run()``.
    public func registerInline(_ name: String, shards: ShardSpec? = nil, _ handler: @escaping InlineHandler) {
        add(name, Registration(body: .inline(handler), execution: .ioThread, shards: shards))
    }

    /// Serves `name` with a handler over `Codable` values, encoded as JSON on the wire.
    public func register<Input: Decodable & Sendable, Output: Encodable & Sendable>(
        _ name: String, input: Input.Type = Input.self, execution: HandlerExecution = .concurrent,
        _ handler: @escaping @Sendable (Input) async throws -> Output
    ) {
        register(name, execution: execution) { request in
            let value: Input
            do {
                value = try JSONDecoder().decode(Input.self, from: Data(request.payload))
            } catch {
                throw HandlerFailure(.malformed, "cannot decode the input of '\(name)' as \(Input.self): \(error)")
            }
            let output = try await handler(value)
            do {
                return Array(try JSONEncoder().encode(output))
            } catch {
                throw HandlerFailure(.handlerError, "cannot encode the output of '\(name)' (\(Output.self)) as JSON: \(error)")
            }
        }
    }

    /// The names of the registered functions.
    public var functions: [String] { handlers.withLock { $0.keys.sorted() } }

    /// How many handlers were found stuck since the worker was created: still running
    /// ``stuckGraceMilliseconds`` after they were cancelled (each is counted once, also if it ends later).
    public var stuckHandlers: Int { gauges.stuckHandlers }

    /// Adds a function to the table served by ``run()`` (internal: see the `register` methods).
    /// Once ``run()`` has started, the table is fixed (READY named its functions): a late
    /// registration is dropped with a warning, and ``functions`` does not list it. A name
    /// registered twice keeps the later handler, and ``run()`` throws for it.
    func add(_ name: String, _ registration: Registration) {
        let started = state.withLock { state -> Bool in
            switch state {
            case .idle, .stopRequested: false
            case .running, .finished: true
            }
        }
        guard !started else {
            logger.warning("'\(name)' was registered after run() started: this worker does not serve it (register before run())")
            return
        }
        let replaced = handlers.withLock { $0.updateValue(registration, forKey: name) != nil }
        if replaced { duplicate.withLock { $0 = $0 ?? name } }
    }

    /// Connects, registers and serves until ``stop(force:)`` is called or the calling task is
    /// cancelled; then stops taking work, lets running handlers finish (up to the drain timeout,
    /// then forcing them out, or not at all after a forced stop) and returns.
    ///
    /// Each request runs under the time limit the broker sent with it: at the limit its handler's
    /// task is cancelled and the request answered with a timeout once the task ends. Throws
    /// ``WorkerError/allSlotsStuck(_:)`` (after telling the broker it leaves) when every slot is
    /// held by a handler that ignored its cancellation for ``stuckGraceMilliseconds``: such a
    /// worker can do no more work and should be restarted. Throws ``WorkerError/invalidSecurity(_:)``
    /// at once, before connecting, when its CURVE settings are wrong in a way seen without the broker.
    public func run() async throws(WorkerError) {
        let table = handlers.withLock { $0 }
        guard !table.isEmpty else { throw .nothingRegistered }
        if let name = duplicate.withLock({ $0 }) { throw .duplicateFunction(name) }
        if let bad = table.keys.first(where: { !FunctionName.isValid($0) }) { throw .invalidFunctionName(bad) }
        guard table.count <= Self.maxFunctions else { throw .tooManyFunctions(table.count, limit: Self.maxFunctions) }
        if let mistake = security?.mistake(role: "worker", keysSetting: "worker_keys") { throw .invalidSecurity(mistake) }
        for (name, registration) in table.sorted(by: { $0.key < $1.key }) {
            if case .batch(_, let maxItems, let maxWait) = registration.body, registration.batchSpec == nil {
                throw .invalidBatchLimits(name, maxItems: maxItems, maxWaitMilliseconds: maxWait)
            }
        }
        let mailbox: Mailbox<WorkerCommandItem>
        let executor: LoopExecutor
        do {
            mailbox = try Mailbox()
            executor = try LoopExecutor()
        } catch {
            throw .setupFailed(error.description)
        }
        let proceed = state.withLock { state -> Bool? in
            switch state {
            case .idle:
                state = .running(mailbox)
                return true
            case .stopRequested:
                state = .finished
                return nil
            case .running, .finished:
                return false
            }
        }
        guard let proceed else { return }
        guard proceed else { throw .alreadyRunning }
        // The worker's own context is made on its I/O thread, and released there once the loop ends:
        // its termination waits for the last answers to leave (the socket's linger) before run()
        // returns. Held by this function instead, it would be terminated on another thread while
        // the process may already be exiting, which could drop those answers.
        let sharedContext = self.sharedContext
        let settings = WorkerLoop.Settings(
            broker: broker, concurrency: concurrency, heartbeat: heartbeat, drainTimeoutMilliseconds: drainTimeoutMilliseconds,
            stuckGraceMilliseconds: stuckGraceMilliseconds, security: security)
        let logger = self.logger
        let gauges = self.gauges
        let outcome = Mutex<WorkerError?>(nil)
        let thread = IOThread(name: "zgrid-worker") {
            let failure = Self.serve(
                context: sharedContext, settings: settings, handlers: table, mailbox: mailbox, executor: executor, gauges: gauges,
                logger: logger)
            outcome.withLock { $0 = failure }
        }
        await withTaskCancellationHandler {
            await thread.finished()
        } onCancel: {
            mailbox.post(.stop(force: false))
        }
        state.withLock { $0 = .finished }
        if let failure = outcome.withLock({ $0 }) { throw failure }
    }

    /// Runs the worker's loop on the calling thread with `context`, or with a context of its own
    /// that is terminated (its sockets' last messages sent, or their linger passed) before this
    /// returns; returns why the worker had to stop serving, if it did not stop gracefully.
    private static func serve(
        context sharedContext: Context?, settings: WorkerLoop.Settings, handlers: [String: Registration],
        mailbox: Mailbox<WorkerCommandItem>, executor: LoopExecutor, gauges: WorkerGauges, logger: Logger
    ) -> WorkerError? {
        let context: Context
        if let sharedContext {
            context = sharedContext
        } else {
            do { context = try Context() } catch { return .setupFailed(error.description) }
        }
        var loop = WorkerLoop(settings: settings, handlers: handlers, mailbox: mailbox, executor: executor, gauges: gauges, logger: logger)
        return loop.run(context, ownsContext: sharedContext == nil)
    }

    /// Asks a running worker to stop: DISCONNECT, then return from ``run()``.
    ///
    /// A graceful stop (the default) lets the running handlers finish, up to the drain timeout
    /// (then it is forced), and still runs the requests the broker sent before it saw the
    /// DISCONNECT. A forced stop (`force: true`), also one that follows a graceful stop still in
    /// progress, gives up at once: it cancels the running handlers without waiting for them,
    /// answers their calls with ``ErrorCode/shuttingDown``, as well as the requests that reached
    /// the worker but were not started yet, and returns from ``run()`` as soon as those answers
    /// are sent. A request that reaches the worker afterwards is left to the broker, which fails
    /// or retries it as for a lost worker.
    public func stop(force: Bool = false) {
        let mailbox = state.withLock { state -> Mailbox<WorkerCommandItem>? in
            if case .running(let mailbox) = state { return mailbox }
            if case .idle = state { state = .stopRequested }
            return nil
        }
        mailbox?.post(.stop(force: force))
    }
}

/// What reaches the worker's I/O thread from other threads.
enum WorkerCommandItem: Sendable {
    /// A handler's task ended: the REPLY's frames, or the failure to answer with ERROR. `start`
    /// tells this handler from a later one for the same dispatch id (see ``RunningRequests``).
    case finished(id: UInt64, start: UInt64, Result<Frames, HandlerFailure>)
    /// A handler reported progress.
    case progress(id: UInt64, start: UInt64, fraction: Double, message: String)
    /// Stop: gracefully, or at once giving up the running handlers (`force`).
    case stop(force: Bool)
}
