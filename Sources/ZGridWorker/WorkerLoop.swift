import Logging
import ZGridProtocol
import ZeroMQ

/// The worker's I/O thread: owns the DEALER socket, starts handler tasks and sends their results.
struct WorkerLoop {
    struct Settings: Sendable {
        let broker: String
        let concurrency: Int
        let heartbeat: HeartbeatSettings
        let drainTimeoutMilliseconds: Int64
        let stuckGraceMilliseconds: Int64
        let security: PeerSecurity?
    }

    let settings: Settings
    private let handlers: [String: Registration]
    private let mailbox: Mailbox<WorkerCommandItem>
    private let executor: LoopExecutor
    let logger: Logger
    private let gauges: WorkerGauges
    private var running = RunningRequests()
    private var inbox: [WorkerCommandItem] = []
    private var lastHeard: Int64 = 0
    private var nextHeartbeat: Int64 = 0
    private var lastBeatSent: Int64 = 0
    private var stopping = false
    /// Whether the stop was forced: the running handlers were given up.
    private var forced = false
    private var stopDeadline: Int64 = 0
    /// While stopping: whether the broker has answered the DISCONNECT (every REQUEST it sent this
    /// worker has arrived), and until when to wait for that answer from a broker that sends none.
    private var drainAcknowledged = false
    private var acknowledgementDeadline: Int64 = 0
    /// Whether anything came from the broker in this session.
    private var heardThisSession = false
    /// Set when a stop begins with no broker heard within the liveness window (none was ever
    /// reached, or it is gone), cleared when one is heard: the stop waits for no answer to its
    /// DISCONNECT, and the last messages are not kept for a broker to take them.
    private var brokerSilent = false
    /// Why this session's last handshake failed, when none has succeeded since: the warning about
    /// a silent broker says it (a refused CURVE key otherwise looks like a broker that is down).
    var handshakeFailure: String?
    /// Set when this session's broker answered under the tag of another protocol version: the
    /// warning about a silent broker says it.
    var versionMismatch: String?
    private var reconnectNeeded = false
    /// Set when the worker must stop serving at once (every slot held by a stuck handler).
    private var failure: WorkerError?
    /// Progress reports waiting for their request's send interval, and when each request last sent one.
    private var heldProgress: [UInt64: (fraction: Double, message: String)] = [:]
    private var progressSentAt: [UInt64: Int64] = [:]
    /// Results of this pass with one payload frame each, sent together (REPLIES) once the mailbox is drained.
    /// (Structs, not tuples: an array of tuples is emptied and copied through the runtime's generic
    /// tuple witnesses, one call per element.)
    private var replies: [HeldReply] = []
    /// The dispatch ids of a REPLIES being built.
    private var replyIDs: [UInt8] = []
    /// The most results one REPLIES may carry: 0 (send REPLY only) until the broker's HEARTBEAT
    /// said how many frames it takes in one message.
    private var maxReplies = 0
    /// The most bytes the broker takes in one frame, once its HEARTBEAT said: a larger result is
    /// answered as an error instead, as libzmq in the broker would drop this worker's connection.
    private var maxFrameBytes: Int?
    /// Whether the broker has answered this session's READY (with its first HEARTBEAT).
    private var registered = false
    /// Whether the broker refused this worker (DISCONNECT with a reason): the next connection waits
    /// for the retry backoff, as after a failed connection, instead of registering again at once.
    private var refusedByBroker = false
    /// The number of the last handler started: with the dispatch id, it names a handler's result
    /// (see ``RunningRequests``).
    private var nextStart: UInt64 = 0
    /// How many REQUEST and REQUESTS messages came from the broker: the activity ``trim`` watches.
    private var requestMessages: UInt64 = 0
    /// Hands the heap's freed memory back once a burst of requests has ended (a worker serving
    /// large payloads otherwise keeps the peak of the burst resident for good).
    private var trim = TrimAfterBurst()
    /// The function a request last named, with its registration.
    private var lastRegistration: (name: String, registration: Registration)?
    /// Resuming sessions (see ``SessionResume``): the routing identity, the broker's promise to take
    /// resumed sessions, the session to resume next and the results that may need sending again.
    var resumption = SessionResumption()

    /// The shortest time between two PROGRESS messages of one request, in milliseconds.
    private static let progressInterval: Int64 = 100

    /// The most frames of a message from the broker that are read (a REQUESTS carries fewer).
    private static let messageFrames = 256

    init(
        settings: Settings, handlers: [String: Registration], mailbox: Mailbox<WorkerCommandItem>, executor: LoopExecutor,
        gauges: WorkerGauges, logger: Logger
    ) {
        self.gauges = gauges
        self.settings = settings
        self.handlers = handlers
        self.mailbox = mailbox
        self.executor = executor
        self.logger = logger
    }

    /// Runs sessions with the broker until a graceful stop completes; returns why the worker had
    /// to stop serving, if it did not stop gracefully.
    mutating func run(_ context: Context, ownsContext: Bool) -> WorkerError? {
        var backoff: Int64 = 100
        var refusalBackoff: Int64 = 100
        // What this thread posts to its own mailbox or executor is taken before the loop blocks.
        mailbox.adoptCurrentThread()
        executor.adoptCurrentThread()
        while !finishedStopping && !hasFailed {
            do {
                let socket = try connect(context)
                backoff = 100
                try serve(socket, context)
                // The last answers are on their way out; a forced stop waits less for them.
                if finishedStopping || hasFailed { try? socket.setLinger(milliseconds: forced ? 250 : brokerSilent ? 0 : 1000) }
            } catch {
                if error.isTerminated { return failure }
                logger.warning("worker connection failed: \(error); retrying in \(backoff) ms")
                guard waitBeforeRetry(&backoff) else { return failure }
            }
            // Refused by the broker (its socket now closed): registering again at once would be
            // refused the same way, so wait as after a failed connection.
            if refusedByBroker && !finishedStopping && !hasFailed {
                refusedByBroker = false
                guard waitBeforeRetry(&refusalBackoff) else { return failure }
            }
        }
        executor.shutdown()
        if ownsContext { context.shutdown() }
        return failure
    }

    /// Waits `milliseconds` before the next connection attempt, or until a stop comes, and runs the
    /// handlers' jobs meanwhile. With no connection there is no broker to answer or to wait for, so a
    /// stop (also one begun in a session that failed since) ends the worker at once, as a stop with
    /// no broker heard does: handlers still running from an earlier session are given up.
    /// Waits `backoff` milliseconds before connecting again (asleep, if the wait itself fails), then
    /// doubles it, up to 5 s; false when the worker's context was terminated meanwhile.
    private mutating func waitBeforeRetry(_ backoff: inout Int64) -> Bool {
        do {
            try waitToRetry(milliseconds: backoff)
        } catch {
            if error.isTerminated { return false }
            MonotonicClock.sleep(milliseconds: backoff)
        }
        backoff = min(backoff * 2, 5000)
        return true
    }

    private mutating func waitToRetry(milliseconds: Int64) throws(ZMQError) {
        let until = MonotonicClock.nowMilliseconds() + milliseconds
        var poller = Poller([mailbox.signal.pollItem, executor.pollItem])
        while !stopping {
            let wait = until - MonotonicClock.nowMilliseconds()
            guard wait > 0 else { return }
            try poller.poll(timeoutMilliseconds: mailbox.hasItems || executor.hasPendingJobs ? 0 : Int(wait))
            executor.runPendingJobs(signalled: poller.isReadable(1))
            mailbox.take(into: &inbox, signalled: poller.isReadable(0))
            defer { inbox.removeAll(keepingCapacity: true) }
            for item in inbox {
                switch item {
                case .finished(let id, let start, _):
                    // No broker to answer: the result is dropped, as for a handler given up.
                    _ = handlerEnded(id, start: start)
                case .progress:
                    break
                case .stop:
                    stopping = true
                }
            }
        }
        logger.info("worker stopping with no connection to the broker: nothing to wait for")
        if !running.isEmpty {
            logger.warning("gave up \(abandonRunning().count) running handlers: their results cannot reach a broker")
        }
        brokerSilent = true
        drainAcknowledged = true
    }

    /// Whether a graceful stop is over: nothing runs, and no REQUEST the broker sent before it saw
    /// the DISCONNECT can still arrive.
    private var finishedStopping: Bool {
        stopping && running.isEmpty && (drainAcknowledged || MonotonicClock.nowMilliseconds() >= acknowledgementDeadline)
    }

    /// Whether ``failure`` is set. (A pattern match: `failure == nil` compares two optional errors
    /// through `Equatable`, copying both, on every pass.)
    private var hasFailed: Bool {
        if case .some = failure { return true }
        return false
    }

    private mutating func connect(_ context: Context) throws(ZMQError) -> Socket {
        let socket = try Socket(context, type: .dealer)
        // Backing off to at most 500 ms: a broker back after a restart hears from its workers soon.
        try socket.setReconnectInterval(milliseconds: 100, max: 500)
        // No limit on queued outgoing messages: a send refused at the limit (the loop never
        // blocks) would drop an answer, and the broker would count its slot taken for good. A
        // burst of cancels ends thousands of handlers in one pass, whose answers all go out in it.
        try socket.setSendHighWaterMark(0)
        try socket.secure(settings.security)
        try socket.setRoutingID(resumption.newIdentity())
        try socket.connect(settings.broker)
        let resume = resumption.resumeFrames(running: running.ids)
        let capabilities: WorkerCapabilities = resume.isEmpty ? .batched : [.batched, .resuming]
        var ready: [[UInt8]] = [.bigEndian(UInt32(settings.concurrency)) + .bigEndian(capabilities.rawValue)] + resume
        for name in handlers.keys.sorted() {
            if let registration = handlers[name] { ready.append(Array(registration.descriptor(name).description.utf8)) }
        }
        try socket.sendProtocolMessage(tag: ProtocolTag.worker, command: WorkerCommand.ready.rawValue, extra: ready)
        logger.info("worker connecting", metadata: ["broker": "\(settings.broker)", "functions": "\(handlers.keys.sorted())"])
        return socket
    }

    /// One session with the broker; returns when the broker must be reconnected or the stop is done.
    private mutating func serve(_ socket: borrowing Socket, _ context: Context) throws(ZMQError) {
        let now = MonotonicClock.nowMilliseconds()
        lastHeard = now
        nextHeartbeat = now + settings.heartbeat.intervalMilliseconds
        reconnectNeeded = false
        heardThisSession = false
        // A new session: no results of the last one, single REPLYs until this broker gives its frame limit.
        replies.removeAll()
        maxReplies = 0
        maxFrameBytes = nil
        registered = false
        handshakeFailure = nil
        versionMismatch = nil
        // Answers sent on the last session's connection that the broker may not have read: again here.
        for answer in resumption.takeResults() { try deliver(socket, id: answer.id, answer.result) }
        let buffer = Multipart(capacity: Self.messageFrames)
        let handshakes = try Self.watchHandshakes(of: socket, context)
        // The monitor's socket is polled on its descriptor alone (it is drained whenever that turns
        // readable, and once here): asking it for its readiness would cost a system call a poll.
        var poller = Poller([socket.pollItem(), mailbox.signal.pollItem, executor.pollItem, try handshakes.drainedPollItem()])
        while try handshakes.receive(into: buffer) { noteHandshake(MonitorEvent(buffer)) }
        while !reconnectNeeded && !finishedStopping && !hasFailed {
            var wake = min(nextHeartbeat, running.nextCheck)
            if !heldProgress.isEmpty { wake = min(wake, MonotonicClock.nowMilliseconds() + Self.progressInterval) }
            if stopping && !drainAcknowledged { wake = min(wake, acknowledgementDeadline) }
            if let due = trim.nextDue { wake = min(wake, due) }
            var wait = max(0, wake - MonotonicClock.nowMilliseconds())
            if mailbox.hasItems || executor.hasPendingJobs { wait = 0 }
            try poller.poll(timeoutMilliseconds: Int(wait))
            if poller.isReadable(0) {
                while try socket.receive(into: buffer) {
                    if let theirs = ProtocolVersion.otherVersion(of: ProtocolTag.worker, in: buffer, at: 0) {
                        noteOtherVersion(theirs)
                        continue
                    }
                    lastHeard = MonotonicClock.nowMilliseconds()
                    heardThisSession = true
                    brokerSilent = false
                    resumption.heardBroker()
                    try handleMessage(buffer, socket)
                    if reconnectNeeded { break }
                }
            }
            if poller.isReadable(3) {
                while try handshakes.receive(into: buffer) { noteHandshake(MonitorEvent(buffer)) }
            }
            // Handlers on the I/O thread run here, then every finished result goes out in one go.
            executor.runPendingJobs(signalled: poller.isReadable(2))
            try drainMailbox(socket, signalled: poller.isReadable(1))
            try sendReplies(socket)
            try sendHeldProgress(socket)
            let current = MonotonicClock.nowMilliseconds()
            trim.check(now: current, activity: requestMessages)
            try enforceTimeLimits(socket, now: current)
            if hasFailed { break }
            if stopping && !forced && current >= stopDeadline {
                logger.warning("drain timeout of \(settings.drainTimeoutMilliseconds) ms passed: forcing the worker out")
                try forceStop(socket)
            }
            if current >= nextHeartbeat {
                try socket.sendProtocolMessage(tag: ProtocolTag.worker, command: WorkerCommand.heartbeat.rawValue)
                lastBeatSent = current
                nextHeartbeat = current + settings.heartbeat.intervalMilliseconds
            }
            if current - lastHeard > settings.heartbeat.expiryMilliseconds && !reconnectNeeded {
                if !stopping && resumption.awaitsResume {
                    // This session's READY resumes the last one and is still on its way to a
                    // broker that has not run since: a newer session would compete with it.
                    continue
                }
                if stopping || !resumption.mayResume(registered: registered) { abandonRunning() }
                if stopping {
                    // No answer could reach a silent broker, and a stopping worker does not register
                    // again (with a restarted broker it would take calls it then leaves unanswered).
                    logger.warning("broker silent for \(current - lastHeard) ms while stopping; stopping now")
                    drainAcknowledged = true
                } else {
                    let why = handshakeFailure ?? versionMismatch
                    let kept = running.isEmpty ? "" : "; its \(running.count) running handlers go on, to be answered on the new connection"
                    logger.warning("broker silent for \(current - lastHeard) ms; reconnecting\(why.map { "; \($0)" } ?? "")\(kept)")
                    reconnectNeeded = true
                }
            }
        }
    }

    private mutating func handleMessage(_ buffer: Multipart, _ socket: borrowing Socket) throws(ZMQError) {
        switch WorkerInbound.decode(buffer) {
        case .failure(let reason):
            logger.warning("dropped malformed message from the broker: \(reason)")
        case .success(.request(let id, let function, let header, let payloadStart)):
            requestMessages &+= 1
            try startRequest(socket, id: id, function: function, header: header, message: buffer, payload: payloadStart..<buffer.count)
        case .success(.requests(let table)):
            requestMessages &+= 1
            try table.forEach(in: buffer) { (entry) throws(ZMQError) in
                try startRequest(
                    socket, id: entry.id, function: entry.function, header: entry.header, message: buffer,
                    payload: entry.payloadIndex..<(entry.payloadIndex + 1))
            }
        case .success(.cancel(let id)):
            running.cancel(id, reason: .broker, now: MonotonicClock.nowMilliseconds(), grace: settings.stuckGraceMilliseconds)
        case .success(.heartbeat(let frameLimit, let frameBytesLimit, let resumes)):
            resumption.brokerResumes = resumes
            if let frameLimit { maxReplies = BatchedRequest.perMessage(frameLimit: frameLimit) }
            if let frameBytesLimit { maxFrameBytes = frameBytesLimit }
            if !registered {
                registered = true
                logger.info("worker registered with the broker", metadata: ["broker": "\(settings.broker)"])
            }
            // Answer the broker's beat, so its view of this worker's liveness follows the broker's
            // interval even when this worker was configured with a longer one.
            let now = MonotonicClock.nowMilliseconds()
            if now - lastBeatSent >= 50 {
                try socket.sendProtocolMessage(tag: ProtocolTag.worker, command: WorkerCommand.heartbeat.rawValue)
                lastBeatSent = now
            }
        case .success(.drainAcknowledged):
            drainAcknowledged = stopping  // only as the answer to this worker's DISCONNECT
        case .success(.disconnect(_)) where stopping:
            // The broker does not know this worker (restarted): no request will follow.
            drainAcknowledged = true
            abandonRunning()
        case .success(.disconnect(let reason?)):
            logger.error("the broker refused this worker: \(reason)")
            refusedByBroker = true
            abandonRunning()
            reconnectNeeded = true
        case .success(.disconnect(nil)):
            logger.info("broker asked this worker to register again")
            abandonRunning()
            reconnectNeeded = true
        }
    }

    /// Takes the handler for `id` started as `start` off the running ones, as its task ended;
    /// nil when it was given up (its result is dropped; its slot, if it held one, is free again).
    private mutating func handlerEnded(_ id: UInt64, start: UInt64) -> RunningRequests.Entry? {
        if let entry = running.remove(id, start: start) {
            heldProgress[id] = nil
            progressSentAt[id] = nil
            if entry.isStuck { noteStuckEnded(id, entry) }
            return entry
        }
        if let (id, entry) = running.removeGivenUp(start: start), entry.isStuck { noteStuckEnded(id, entry) }
        return nil
    }

    private func noteStuckEnded(_ id: UInt64, _ entry: RunningRequests.Entry) {
        logger.warning(
            "a stuck handler ended at last; its slot is free again", metadata: ["function": "\(entry.function)", "dispatch": "\(id)"])
    }

    private mutating func drainMailbox(_ socket: borrowing Socket, signalled: Bool) throws(ZMQError) {
        mailbox.take(into: &inbox, signalled: signalled)
        defer { inbox.removeAll(keepingCapacity: true) }
        for item in inbox {
            switch item {
            case .finished(let id, let start, let result):
                // A handler given up in an earlier session: its id may now be another request's.
                guard let entry = handlerEnded(id, start: start) else { continue }
                try deliver(socket, id: id, entry.cancelReason == .timeLimit ? .failure(Self.timeLimitFailure(entry)) : result)
            case .progress(let id, let start, let fraction, let message):
                guard running.contains(id, start: start) else { continue }
                heldProgress[id] = (fraction, message)
            case .stop(let force):
                if !stopping {
                    try sendReplies(socket)
                    stopping = true
                    let now = MonotonicClock.nowMilliseconds()
                    // With no broker heard lately no REQUEST can be in transit: nothing to wait for.
                    brokerSilent = !heardThisSession || now - lastHeard > settings.heartbeat.expiryMilliseconds
                    drainAcknowledged = brokerSilent
                    let (deadline, overflow) = now.addingReportingOverflow(settings.drainTimeoutMilliseconds)
                    stopDeadline = overflow ? .max : deadline
                    // A broker that does not answer DISCONNECT: two heartbeat intervals for requests in transit.
                    acknowledgementDeadline = now + 2 * settings.heartbeat.intervalMilliseconds
                    if !force { logger.info("worker stopping: waiting for \(running.count) running handlers") }
                    try socket.sendProtocolMessage(tag: ProtocolTag.worker, command: WorkerCommand.disconnect.rawValue)
                }
                if force { try forceStop(socket) }
            }
        }
    }

    /// Gives up the running handlers at once, for a forced stop: cancels their tasks without waiting
    /// for them, answers their calls with `shuttingDown`, as well as the REQUESTs already waiting in
    /// the socket, and ends the stop (the loop returns once the answers are sent). A REQUEST still
    /// in transit is left to the broker, which handles it as for a lost worker.
    private mutating func forceStop(_ socket: borrowing Socket) throws(ZMQError) {
        guard !forced else { return }
        forced = true
        try sendReplies(socket)
        let abandoned = abandonRunning()
        for (id, function) in abandoned {
            try sendError(socket, id: id, code: .shuttingDown, message: "the worker was stopped by force while running '\(function)'")
        }
        drainAcknowledged = true
        // Unread REQUESTs (a handler on the I/O thread may have held it for long) are refused now.
        let buffer = Multipart(capacity: Self.messageFrames)
        for _ in 0..<Self.lastMessages {
            guard try socket.receive(into: buffer) else { break }
            try handleMessage(buffer, socket)
        }
        logger.warning(
            "worker forced to stop: gave up \(abandoned.count) running handlers; their calls, and the requests still unread, fail as shutting down"
        )
    }

    /// The most messages a forced stop reads to answer them (see ``forceStop(_:)``).
    private static let lastMessages = 4096

    /// Answers a finished request: a one-frame result is held for ``sendReplies(_:)``, a longer one
    /// goes out as its own REPLY, a failure as ERROR.
    private mutating func deliver(_ socket: borrowing Socket, id: UInt64, _ result: Result<Frames, HandlerFailure>) throws(ZMQError) {
        if case .success(let frames) = result, let limit = maxFrameBytes, case let largest = frames.largestCount, largest > limit {
            let text = "the result has a frame of \(largest) bytes, over the broker's limit of \(limit) (max_message_bytes)"
            logger.warning("answered a result as an error: \(text)", metadata: ["dispatch": "\(id)"])
            try sendError(socket, id: id, code: .handlerError, message: text)
            return
        }
        if resumption.brokerResumes { resumption.sent(id, result) }
        switch result {
        case .success(.one(let frame)):
            replies.append(HeldReply(id: id, frame: frame))
        case .success(.many(let frames)) where frames.count == 1:
            replies.append(HeldReply(id: id, frame: frames[0]))
        case .success(.many(let frames)):
            try socket.sendProtocolMessage(tag: ProtocolTag.worker, command: WorkerCommand.reply.rawValue, id: id, extra: frames)
        case .failure(let failure):
            try sendError(socket, id: id, code: failure.code, message: failure.message)
        }
    }

    /// Sends the results held by ``deliver(_:id:_:)``: one REPLY, or REPLIES for several.
    private mutating func sendReplies(_ socket: borrowing Socket) throws(ZMQError) {
        defer { replies.removeAll(keepingCapacity: true) }
        try BatchedRequest.forEachMessage(of: replies.count, perMessage: maxReplies) { (index) throws(ZMQError) in
            try socket.sendProtocolMessage(
                tag: ProtocolTag.worker, command: WorkerCommand.reply.rawValue, id: replies[index].id, extra: [replies[index].frame])
        } batch: { (range) throws(ZMQError) in
            guard try socket.sendBatchEnvelope(tag: ProtocolTag.worker, command: WorkerCommand.replies.rawValue) else { return }
            replyIDs.removeAll(keepingCapacity: true)
            for index in range { replyIDs.appendBigEndian(replies[index].id) }
            try socket.send(replyIDs, more: true)
            for index in range { try socket.send(replies[index].frame, more: index < range.upperBound - 1) }
        }
    }

    /// Starts a handler for a REQUEST, or answers ERROR at once when it cannot run. A REQUEST whose
    /// dispatch id already runs breaks the protocol: it is dropped, as the running one will answer.
    private mutating func startRequest(
        _ socket: borrowing Socket, id: UInt64, function: String, header: CallHeader, message: Multipart, payload: Range<Int>
    ) throws(ZMQError) {
        guard running.isEmpty || !running.contains(id) else {
            logger.warning(
                "dropped a REQUEST whose dispatch id already runs on this worker",
                metadata: ["function": "\(function)", "dispatch": "\(id)"])
            return
        }
        let registration = registration(of: function)
        // An inline handler runs here and now: its result joins this pass's REPLIES.
        // While stopping, requests the broker sent before it saw the DISCONNECT still run.
        let refusing = stopping && drainAcknowledged
        if !refusing, case .inline(let handler)? = registration?.body, !header.isBatch {
            try deliver(
                socket, id: id,
                HandlerCall.runInline(handler, function: function, id: id, header: header, message: message, payload: payload))
            return
        }
        guard !refusing, running.slotsHeld < settings.concurrency, let registration else {
            let (code, text): (ErrorCode, String) =
                refusing
                ? (.shuttingDown, forced ? "the worker was stopped by force before running '\(function)'" : "the worker is stopping")
                : registration == nil
                    ? (.unknownFunction, "this worker does not serve '\(function)'")
                    : (.busy, busyMessage)
            try sendError(socket, id: id, code: code, message: text)
            return
        }
        let mailbox = self.mailbox
        nextStart &+= 1
        let start = nextStart
        let reporter: @Sendable (Double, String) -> Void = { fraction, text in
            mailbox.post(.progress(id: id, start: start, fraction: fraction, message: text))
        }
        let prepared = HandlerCall.prepare(
            registration, function: function, id: id, header: header, message: message, payload: payload, reporter: reporter)
        let call: HandlerCall
        switch prepared {
        case .success(let ready): call = ready
        case .failure(let failure):
            try sendError(socket, id: id, code: failure.code, message: failure.message)
            return
        }
        // A concurrent handler's task is a plain one: a task created with a nil preference still
        // carries a preference record, which the runtime looks up under a lock on every resume.
        // Each branch passes its closure straight to Task (a shared closure value cost an
        // allocation more per request).
        let task: Task<Void, Never>
        if registration.execution == .ioThread {
            task = Task(executorPreference: executor) { mailbox.post(.finished(id: id, start: start, await call.run())) }
        } else {
            task = Task { mailbox.post(.finished(id: id, start: start, await call.run())) }
        }
        running.insert(
            id, start: start, task: task, function: function, limitMilliseconds: header.timeoutMilliseconds,
            now: MonotonicClock.nowMilliseconds())
    }

    /// Why a request is refused for want of a free slot.
    private var busyMessage: String {
        let held = running.slotsHeld - running.count
        guard held > 0 else { return "the worker is at its concurrency limit" }
        return "the worker is at its concurrency limit: \(held) of its \(settings.concurrency) slots are held by stuck handlers it gave up"
    }

    /// The registration of `function`, remembering the last one found: the requests of a batch
    /// mostly name one function, and comparing a name costs less than hashing it.
    private mutating func registration(of function: String) -> Registration? {
        if let last = lastRegistration, last.name == function { return last.registration }
        guard let registration = handlers[function] else { return nil }
        lastRegistration = (function, registration)
        return registration
    }

    /// Cancels handlers past their time limit, reports those that ignore it past the grace period,
    /// and gives up (DISCONNECT, then ``Worker/run()`` throws) when every slot is held by a stuck one.
    private mutating func enforceTimeLimits(_ socket: borrowing Socket, now: Int64) throws(ZMQError) {
        for event in running.tick(now: now, grace: settings.stuckGraceMilliseconds) {
            switch event {
            case .timedOut(let id, let entry):
                // One per call that runs out of time, a normal outcome its caller is told of (and
                // the broker counts): not a line at the default level.
                logger.debug(
                    "handler exceeded its time limit; cancelling it",
                    metadata: ["function": "\(entry.function)", "dispatch": "\(id)", "limit_ms": "\(entry.limitMilliseconds)"])
            case .stuck(let id, let entry):
                gauges.recordStuck()
                logger.error(
                    "handler ignores cancellation: still running \(now - entry.cancelledAt) ms after it was cancelled; its slot stays occupied",
                    metadata: ["function": "\(entry.function)", "dispatch": "\(id)"])
            }
        }
        guard running.stuckCount >= settings.concurrency else { return }
        let count = running.stuckCount
        logger.critical("all \(count) slots are held by stuck handlers: this worker stops serving and must be restarted")
        try socket.sendProtocolMessage(tag: ProtocolTag.worker, command: WorkerCommand.disconnect.rawValue)
        failure = .allSlotsStuck(count)
    }

    /// The answer to a request cancelled at its time limit, whatever its handler returned: the
    /// broker's words for a deadline that passed, so that a caller gets the same error whichever of
    /// the two notices first (the limit in milliseconds is in the worker's log line).
    private static func timeLimitFailure(_ entry: RunningRequests.Entry) -> HandlerFailure {
        HandlerFailure(.timeout, ErrorCode.timeoutMessage(function: entry.function))
    }

    /// Sends held progress reports of requests whose interval has passed (one per request).
    private mutating func sendHeldProgress(_ socket: borrowing Socket) throws(ZMQError) {
        guard !heldProgress.isEmpty else { return }
        let now = MonotonicClock.nowMilliseconds()
        for (id, report) in heldProgress where now - (progressSentAt[id] ?? .min / 2) >= Self.progressInterval {
            heldProgress[id] = nil
            progressSentAt[id] = now
            try socket.sendProtocolMessage(
                tag: ProtocolTag.worker, command: WorkerCommand.progress.rawValue, id: id,
                extra: [.bigEndian(UInt32(report.fraction * 1_000_000)), Array(report.message.utf8)])
        }
    }

    /// Sends ERROR, its message cut to the broker's frame size limit (see ``ErrorMessageLimit``).
    private func sendError(_ socket: borrowing Socket, id: UInt64, code: ErrorCode, message: String) throws(ZMQError) {
        try socket.sendProtocolMessage(
            tag: ProtocolTag.worker, command: WorkerCommand.error.rawValue, id: id,
            extra: [code.encoded, ErrorMessageLimit.bytes(message, limit: maxFrameBytes)])
    }

    /// Cancels handlers whose results can no longer be delivered (the broker forgot this worker, or
    /// a forced stop gave them up) with their held progress; returns their dispatch ids and functions.
    @discardableResult
    private mutating func abandonRunning() -> [(id: UInt64, function: String)] {
        let abandoned = running.abandonAll(now: MonotonicClock.nowMilliseconds(), grace: settings.stuckGraceMilliseconds)
        resumption.abandon()
        heldProgress.removeAll()
        progressSentAt.removeAll()
        return abandoned
    }
}

/// A result with one payload frame, held for this pass's REPLIES.
private struct HeldReply {
    let id: UInt64
    let frame: [UInt8]
}
