import Foundation
import Logging
import Synchronization
import ZGridProtocol
import ZeroMQ

/// A connection to a ZGrid broker for calling remote functions.
///
/// One client carries thousands of concurrent calls from many tasks over one socket, owned by a
/// dedicated I/O thread. Cancelling a calling task cancels its call in the grid.
///
/// ```swift
/// let client = try GridClient(broker: "tcp://127.0.0.1:5555")
/// let reply = try await client.call("echo", Array("hi".utf8), timeout: .seconds(2))
/// ```
public final class GridClient: Sendable {
    /// The broker endpoint.
    public let broker: String
    /// This client's name: jobs it submits carry the tag `client:<name>` (see ``originTag``), so
    /// ``submittedByThisClient`` finds them. Random unless given.
    public let name: String
    /// The tag every job submitted by this client carries: `client:<name>`.
    public let originTag: String
    let mailbox: Mailbox<ClientCommandItem>
    private let loopExecutor: LoopExecutor
    private let thread: IOThread
    let ids = RequestIDs()
    /// How often a call or submit answered BUSY with a retry-after time (admission control) is
    /// tried again, after that time with jitter (×0.5 to ×1.5) and within its time limit, before
    /// ``GridError/busy(_:retryAfter:)`` is thrown.
    public let busyRetries: Int
    /// The most calls and scatters (those of ``callEach(_:_:inFlight:timeout:idempotent:priority:)``
    /// included) this client keeps in flight at the broker at once, as the application set it; nil
    /// when it did not. The client keeps within the broker's limit per client, which the broker
    /// says in its heartbeats (``maxInFlight`` for a broker that does not say), and within this
    /// one when it is lower. More wait in the client, in the order they were made, and go out as
    /// answers make room, each within its own time limit; so a burst past the limit is not refused
    /// BUSY. Until the broker's first heartbeat has said its limit, one is kept in flight.
    public let inFlightLimit: Int?
    private let closed = Atomic<Bool>(false)

    /// Connects to `broker` (a ZeroMQ endpoint such as `tcp://127.0.0.1:5555`). Connecting is
    /// asynchronous: calls made before the broker is reachable wait for it within their time limit.
    /// Pass the broker's `context` to reach it over `inproc://`. Throws
    /// ``GridError/invalidArgument(_:)`` at once when `security` is wrong in a way seen without the
    /// broker (see ``ZGridProtocol/PeerSecurity/mistake(role:keysSetting:)``).
    ///
    /// `inFlightLimit` (see ``inFlightLimit``), at least 1, keeps fewer calls and scatters in flight
    /// than the broker's limit per client; without it the broker's limit, as it says it, applies.
    public init(
        broker: String, name: String? = nil, heartbeat: HeartbeatSettings = .init(), context shared: Context? = nil,
        security: PeerSecurity? = nil, busyRetries: Int = 3, inFlightLimit: Int? = nil,
        logger: Logger = Logger(label: "zgrid.client")
    ) throws(GridError) {
        if let inFlightLimit, inFlightLimit < 1 { throw .invalidArgument("inFlightLimit \(inFlightLimit) must be at least 1") }
        self.inFlightLimit = inFlightLimit
        if let mistake = security?.mistake(role: "client", keysSetting: "client_keys") { throw .invalidArgument(mistake) }
        self.busyRetries = max(0, busyRetries)
        self.broker = broker
        let name = name ?? "c" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        guard JobTags.isValid(["client:" + name]) else {
            throw .invalidArgument("client name '\(name)': 1 to \(JobTags.maxLength - 7) characters without commas")
        }
        self.name = name
        originTag = "client:" + name
        do {
            mailbox = try Mailbox()
            loopExecutor = try LoopExecutor()
        } catch {
            throw .internal(error.description)
        }
        let context: Context
        do {
            if let shared { context = shared } else { context = try Context() }
        } catch {
            throw .invalidArgument("cannot connect to \(broker): \(error.message)")
        }
        let mailbox = self.mailbox
        let executor = loopExecutor
        let connected = ConnectOutcome()
        let ids = self.ids
        thread = IOThread(name: "zgrid-client") {
            var loop = ClientLoop(
                broker: broker, heartbeat: heartbeat, security: security, mailbox: mailbox, executor: executor, connected: connected,
                ids: ids, inFlightLimit: inFlightLimit, logger: logger)
            loop.run(context)
        }
        // The endpoint is checked by the I/O thread's own socket: a separate probe socket would
        // open a connection of its own and drop it, which a CURVE broker counts as a failed handshake.
        if let error = connected.wait() {
            closed.store(true, ordering: .relaxed)
            mailbox.post(.close)
            thread.wait()
            throw .invalidArgument("cannot connect to \(broker): \(error.message)")
        }
    }

    /// The executor of the client's I/O thread.
    ///
    /// Code that makes many calls in a row can run on it, so that sending a call and resuming on its
    /// reply need no thread switch: `await withTaskExecutorPreference(client.executor) { … }` or
    /// `Task(executorPreference: client.executor) { … }`. Keep such code short and non-blocking:
    /// while it runs, the client reads and sends nothing. Tasks that need no preference are best
    /// created plain: a nil preference still gives the task a preference record, which the runtime
    /// looks up under a lock on every resume.
    public var executor: any TaskExecutor { loopExecutor }

    deinit {
        mailbox.post(.close)
    }

    /// Calls `function` with a raw payload and returns the reply payload.
    ///
    /// - Parameters:
    ///   - timeout: the time limit for the whole call, queueing included.
    ///   - idempotent: the call is safe to run twice, so the broker may retry it when a worker dies,
    ///     and the client sends it again when its connection to the broker drops before the answer
    ///     (the client then keeps the payload until the answer).
    ///   - priority: 0 (lowest) to 9.
    public func call(
        _ function: String, _ payload: [UInt8] = [], timeout: Duration = .seconds(30), idempotent: Bool = false, priority: Int = 0
    ) async throws(GridError) -> [UInt8] {
        let milliseconds = try validate(function, timeout: timeout, priority: priority)
        let started = ContinuousClock.now
        do {
            // The first attempt directly: most calls need no other.
            return try await callOnce(function, payload, milliseconds: milliseconds, idempotent: idempotent, priority: priority)
        } catch {
            let deadline = started + .milliseconds(milliseconds)
            return try await retryingBusy(until: deadline, after: error) { () async throws(GridError) -> [UInt8] in
                let left = max(1, Self.milliseconds(ContinuousClock.now.duration(to: deadline)))
                return try await self.callOnce(function, payload, milliseconds: left, idempotent: idempotent, priority: priority)
            }
        }
    }

    /// One attempt of ``call(_:_:timeout:idempotent:priority:)``.
    private func callOnce(
        _ function: String, _ payload: [UInt8], milliseconds: Int64, idempotent: Bool, priority: Int
    ) async throws(GridError) -> [UInt8] {
        if Task.isCancelled { throw .cancelled }
        let id = ids.next()
        let header = CallHeader(
            flags: idempotent ? CallHeader.idempotentFlag : 0, priority: UInt8(priority), timeoutMilliseconds: UInt32(milliseconds))
        let mailbox = self.mailbox
        let result = await withTaskCancellationHandler {
            await withCallContinuation { continuation in
                mailbox.post(
                    .call(
                        CallRequest(
                            id: id, function: function, header: header, payload: payload, timeoutMilliseconds: milliseconds,
                            continuation: continuation)))
            }
        } onCancel: {
            mailbox.post(.cancel(id: id))
        }
        return try result.get()
    }

    /// Sends `payload` to every shard of a sharded function (or to every worker of a plain one), in
    /// the broker, and returns the parts as they arrive.
    ///
    /// Each shard is answered by one of the workers holding it; a shard whose worker fails or dies
    /// is retried on another replica within the deadline. At the deadline, parts still missing
    /// arrive as failures saying why (timeout, no worker holds the shard).
    public func scatter(
        _ function: String, _ payload: [UInt8], gather: GatherPolicy = .all, timeout: Duration = .seconds(30), priority: Int = 0
    ) throws(GridError) -> ScatterStream {
        try startScatter(function, frames: [payload], mode: .broadcast, gather: gather, timeout: timeout, priority: priority)
    }

    /// Spreads `inputs` over the workers of `function`, one call per input (a parallel map), in
    /// the broker; part `i` is the reply to `inputs[i]`.
    public func scatter(
        _ function: String, inputs: [[UInt8]], gather: GatherPolicy = .all, timeout: Duration = .seconds(30), priority: Int = 0
    ) throws(GridError) -> ScatterStream {
        guard inputs.count <= Self.maxScatterInputs else {
            throw .invalidArgument("\(inputs.count) inputs; one scatter takes at most \(Self.maxScatterInputs)")
        }
        return try startScatter(function, frames: inputs, mode: .map, gather: gather, timeout: timeout, priority: priority)
    }

    /// The most inputs one parallel map takes (each is one frame of one message; with the broker's
    /// default limit of 64 frames, 7 go to the envelope).
    public static let maxScatterInputs = 57

    private func startScatter(
        _ function: String, frames: [[UInt8]], mode: ScatterSpec.Mode, gather: GatherPolicy, timeout: Duration, priority: Int
    ) throws(GridError) -> ScatterStream {
        let milliseconds = try validate(function, timeout: timeout, priority: priority)
        if case .first(let n) = gather, n < 1 || n > Int(UInt16.max) {
            throw .invalidArgument("first(\(n)) must ask for 1 to \(UInt16.max) parts")
        }
        let id = ids.next()
        let header = CallHeader(priority: UInt8(priority), timeoutMilliseconds: UInt32(milliseconds))
        let (events, continuation) = AsyncThrowingStream<ScatterEvent, any Error>.makeStream()
        let mailbox = self.mailbox
        continuation.onTermination = { termination in
            if case .cancelled = termination { mailbox.post(.cancel(id: id)) }
        }
        mailbox.post(
            .scatter(
                id: id, function: function, header: header, spec: ScatterSpec(mode: mode, gather: gather.wire), frames: frames,
                timeoutMilliseconds: milliseconds, events: ScatterSink(continuation)))
        return ScatterStream(events: events, summary: SummaryBox())
    }

    /// Checks a call's arguments; returns the timeout in milliseconds.
    func validate(_ function: String, timeout: Duration, priority: Int) throws(GridError) -> Int64 {
        try Self.check(function, priority: priority)
        let milliseconds = Self.milliseconds(timeout)
        guard milliseconds >= 1, milliseconds <= Int64(UInt32.max) else {
            throw .invalidArgument("timeout \(timeout) is outside 1 ms ... 49 days")
        }
        try checkOpen()
        return milliseconds
    }

    /// Refuses an invalid function name or a priority outside 0...9.
    static func check(_ function: String, priority: Int) throws(GridError) {
        guard FunctionName.isValid(function) else { throw .invalidArgument(FunctionName.invalidMessage(function)) }
        guard (0...9).contains(priority) else { throw .invalidArgument("priority \(priority) is outside 0...9") }
    }

    /// Throws ``GridError/closed`` once the client is closed.
    func checkOpen() throws(GridError) {
        guard !closed.load(ordering: .relaxed) else { throw .closed }
    }

    /// Sends `command` with `frames` and waits for the reply's bytes (the job commands' transport).
    /// A `resendable` request (one safe to send twice) is sent again, within its time limit, when
    /// the connection to the broker drops before the answer came; any other then fails with
    /// ``GridError/brokerUnreachable(_:)``.
    func request(
        _ command: ClientCommand, _ frames: [[UInt8]], timeoutMilliseconds: Int64, resendable: Bool = false
    ) async throws(GridError) -> [UInt8] {
        try checkOpen()
        if Task.isCancelled { throw .cancelled }
        let id = ids.next()
        let mailbox = self.mailbox
        let result = await withTaskCancellationHandler {
            await withCallContinuation { continuation in
                let waiter =
                    resendable
                    ? ResendableRequest(command: command, frames: frames, continuation: continuation) : CallWaiter(continuation)
                mailbox.post(.request(id: id, command: command, frames: frames, timeoutMilliseconds: timeoutMilliseconds, waiter: waiter))
            }
        } onCancel: {
            mailbox.post(.cancel(id: id))
        }
        return try result.get()
    }

    /// Calls `function` with a `Codable` input (JSON on the wire) and decodes its output.
    public func call<Input: Encodable, Output: Decodable>(
        _ function: String, _ input: Input, returning: Output.Type = Output.self, timeout: Duration = .seconds(30),
        idempotent: Bool = false, priority: Int = 0
    ) async throws(GridError) -> Output {
        let payload: [UInt8]
        do { payload = Array(try JSONEncoder().encode(input)) } catch { throw .coding("cannot encode \(Input.self): \(error)") }
        let reply = try await call(function, payload, timeout: timeout, idempotent: idempotent, priority: priority)
        do { return try JSONDecoder().decode(Output.self, from: Data(reply)) } catch {
            throw .coding("cannot decode the reply of '\(function)' as \(Output.self): \(error)")
        }
    }

    /// Closes the connection: calls still waiting fail with ``GridError/closed``. Returns once the
    /// I/O thread has ended.
    public func close() async {
        if !closed.exchange(true, ordering: .relaxed) { mailbox.post(.close) }
        await thread.finished()
    }
}
