import Dispatch
import Foundation
import Logging
import Synchronization
import ZGridJobStore
import ZGridProtocol
import ZeroMQ

/// A running broker: one thread with one `zmq_poll` loop over a ROUTER socket, feeding
/// ``BrokerCore`` and carrying out its actions.
public final class BrokerServer: Sendable {
    /// The endpoints the broker listens on, with real ports where port 0 was asked for.
    public let endpoints: [String]
    private let stopSignal: WakeSignal

    /// Binds the configured endpoints and starts the loop thread; returns once the broker listens.
    ///
    /// Pass `context` to share one libzmq context with clients and workers in this process, which
    /// `inproc://` endpoints need; by default the broker has its own.
    public static func start(
        _ configuration: BrokerConfiguration, context shared: Context? = nil, logger: Logger = Logger(label: "zgrid.broker")
    ) throws(BrokerError) -> BrokerServer {
        if let mistake = configuration.security?.mistake { throw .invalidSecurity(mistake) }
        let context: Context
        if let shared {
            context = shared
        } else {
            do { context = try Context() } catch { throw .setupFailed(error.description) }
        }
        let stopSignal: WakeSignal
        do { stopSignal = try WakeSignal() } catch { throw .setupFailed(error.description) }
        let ready = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<[String], BrokerError>>(.success([]))
        let shared = LoopShared()
        // An IOThread: what the loop captures (the broker's own context above all) is released on
        // it before it counts as ended, so the context's termination waits for the last answers to
        // leave (the socket's linger) before stop() returns and the process perhaps exits.
        let thread = IOThread(name: "zgrid-broker") {
            var jobStore: JobStoreLink?
            var recovered: (unfinished: [JobRecord], maxID: Int64, scheduleSlots: [String: ScheduleSlot]) = ([], 0, [:])
            var recoveredEvents: (maxSeq: Int64, positions: [String: Int64]) = (0, [:])
            // A start that fails leaves no store file it created behind (an address in use, say).
            var started = false
            defer { if started { jobStore?.store.close() } else { jobStore?.discard() } }
            if let path = configuration.jobStorePath {
                do {
                    let link = try JobStoreLink(path: path)
                    jobStore = link
                    recovered = try link.store.recover()
                    recoveredEvents = try link.store.recoverEvents()
                } catch let error as BrokerError {
                    outcome.withLock { $0 = .failure(error) }
                    ready.signal()
                    return
                } catch {
                    outcome.withLock { $0 = .failure(.setupFailed("job store \(path): \(error)")) }
                    ready.signal()
                    return
                }
            }
            let socket: Socket
            do {
                socket = try openRouter(context, configuration)
            } catch let error as BrokerError {
                outcome.withLock { $0 = .failure(error) }
                ready.signal()
                return
            } catch {
                outcome.withLock { $0 = .failure(.setupFailed("\(error)")) }
                ready.signal()
                return
            }
            // The CURVE gate and the metrics endpoint are part of starting: a failure of either is
            // the caller's error, not a log line from a broker that then serves without them.
            var configuration = configuration
            if jobStore == nil { configuration.options.schedules = [] }  // schedules need a store to fire into
            var gate: SecurityGate?
            var metrics: MetricsEndpoint?
            do throws(BrokerError) {
                if let security = configuration.security {
                    do {
                        gate = try SecurityGate(
                            security: security, context: context, router: socket,
                            monitorEndpoint: "inproc://zgrid-handshakes-\(UInt64.random(in: 0...UInt64.max))")
                    } catch { throw BrokerError.setupFailed("cannot start the CURVE gate: \(error)") }
                }
                if let endpoint = configuration.metricsEndpoint {
                    do { metrics = try MetricsEndpoint(context: context, endpoint: endpoint) } catch {
                        throw BrokerError.bindFailed(endpoint: endpoint, reason: "\(error) (the metrics endpoint)")
                    }
                }
            } catch {
                outcome.withLock { $0 = .failure(error) }
                ready.signal()
                return
            }
            let bound = socket.boundEndpoints(configuration.endpoints.count)
            started = true
            outcome.withLock { $0 = .success(bound) }
            ready.signal()
            logger.info("broker listening", metadata: ["endpoints": "\(bound.joined(separator: " "))"])
            if jobStore != nil {
                logger.info(
                    "job store open",
                    metadata: ["path": "\(configuration.jobStorePath ?? "")", "unfinished": "\(recovered.unfinished.count)"])
            }
            if let endpoint = configuration.metricsEndpoint {
                logger.info("metrics served over HTTP", metadata: ["endpoint": "\(endpoint)"])
            }
            var loop = BrokerLoop(
                configuration: configuration, jobStore: jobStore, metrics: metrics, security: gate, logger: logger,
                refusing: { shared.refusingNewWork.load(ordering: .relaxed) },
                forced: { shared.forcedStop.load(ordering: .relaxed) }
            ) { value in
                shared.snapshot.withLock { $0 = value }
            }
            loop.recoverEvents(maxSeq: recoveredEvents.maxSeq, positions: recoveredEvents.positions)
            loop.recover(recovered.unfinished, maxID: recovered.maxID, scheduleSlots: recovered.scheduleSlots)
            loop.run(socket, stop: stopSignal)
            logger.info("broker stopped")
        }
        ready.wait()
        switch outcome.withLock({ $0 }) {
        case .success(let endpoints):
            return BrokerServer(endpoints: endpoints, stopSignal: stopSignal, shared: shared, thread: thread)
        case .failure(let error):
            thread.wait()
            throw error
        }
    }

    private let shared: LoopShared
    private let thread: IOThread

    private init(endpoints: [String], stopSignal: WakeSignal, shared: LoopShared, thread: IOThread) {
        self.endpoints = endpoints
        self.stopSignal = stopSignal
        self.shared = shared
        self.thread = thread
    }

    /// The latest counters and sizes published by the loop (updated after every burst of messages).
    public var status: BrokerSnapshot { shared.snapshot.withLock { $0 } }

    /// Stops: new calls, scatters and submits are refused with SHUTTING_DOWN, the job store is
    /// flushed; returns once the thread has ended. Safe to call twice.
    ///
    /// A graceful stop (the default) gives the calls in flight up to the configured grace period
    /// to finish. A forced stop (`force: true`), also one that follows a graceful stop still in
    /// progress, ends that grace at once: the calls and scatters still in flight are answered
    /// SHUTTING_DOWN and cancelled on their workers, as when the grace runs out.
    public func stop(force: Bool = false) {
        requestStop(force: force)
        wait()
    }

    /// Asks for the stop ``stop(force:)`` makes, without waiting for the loop to end (see
    /// ``wait()``): for a caller that must not block, such as a signal handler's thread.
    public func requestStop(force: Bool = false) {
        if force { shared.forcedStop.store(true, ordering: .relaxed) }
        stopSignal.signal()
    }

    /// Starts refusing new calls, scatters and submits with SHUTTING_DOWN, as a stop does, while
    /// everything else goes on: calls in flight finish, and workers that stop now are answered.
    /// For a supervisor that stops its workers before the broker (``stop()`` ends the loop as soon
    /// as nothing is in flight).
    public func refuseNewWork() {
        shared.refusingNewWork.store(true, ordering: .relaxed)
    }

    /// Waits until the loop ends (after ``stop()`` from elsewhere).
    public func wait() {
        thread.wait()
    }
}

/// State the loop thread shares with the ``BrokerServer`` handle.
private final class LoopShared: Sendable {
    let snapshot = Mutex(BrokerSnapshot())
    /// Set by ``BrokerServer/refuseNewWork()``.
    let refusingNewWork = Atomic<Bool>(false)
    /// Set by ``BrokerServer/stop(force:)`` with `force`, before it wakes the loop.
    let forcedStop = Atomic<Bool>(false)
}

/// Opens the broker's ROUTER socket with its limits and binds every endpoint.
private func openRouter(_ context: Context, _ configuration: BrokerConfiguration) throws(BrokerError) -> Socket {
    let socket = try routerSocket(context, configuration)
    if let security = configuration.security {
        do { try socket.makeCurveServer(secretKey: security.serverKeys.secretKey) } catch {
            throw .setupFailed("CURVE: \(error.description)")
        }
    }
    for endpoint in configuration.endpoints {
        if let problem = IPCListenerCheck.problem(with: endpoint) { throw .bindFailed(endpoint: endpoint, reason: problem) }
        do { try socket.bind(endpoint) } catch { throw .bindFailed(endpoint: endpoint, reason: error.message) }
    }
    return socket
}

private func routerSocket(_ context: Context, _ configuration: BrokerConfiguration) throws(BrokerError) -> Socket {
    do {
        let socket = try Socket(context, type: .router)
        try socket.setMaxMessageSize(Int64(configuration.maxMessageBytes))
        try socket.setSendHighWaterMark(100_000)
        try socket.setReceiveHighWaterMark(100_000)
        return socket
    } catch {
        throw .setupFailed(error.description)
    }
}

/// Counters and sizes the loop publishes for other threads.
public struct BrokerSnapshot: Sendable, Equatable {
    /// The core's counters.
    public var statistics = BrokerStatistics()
    /// Registered workers.
    public var workers = 0
    /// Calls queued or running.
    public var callsInFlight = 0
    /// Functions with at least one worker, and how many.
    public var functions: [String: Int] = [:]
    /// Payload buffers held by the core.
    public var heldPayloads = 0
    /// Unfinished background jobs by state.
    public var jobs: [String: Int] = [:]
    /// Peers refused by CURVE security: unknown keys, failed handshakes, commands outside a role.
    public var securityRefusals = 0

    /// An empty snapshot.
    public init() {}

    init(statistics: BrokerStatistics, workers: Int, callsInFlight: Int, functions: [String: Int], heldPayloads: Int, jobs: [String: Int]) {
        self.statistics = statistics
        self.workers = workers
        self.callsInFlight = callsInFlight
        self.functions = functions
        self.heldPayloads = heldPayloads
        self.jobs = jobs
    }
}
