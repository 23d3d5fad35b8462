import Foundation
import Logging
import ZGridProtocol
import ZeroMQ

/// The client's I/O thread: owns the DEALER socket, sends calls, resumes callers with replies.
struct ClientLoop {
    enum Waiter {
        case call(CallWaiter)
        case scatter(ScatterSink, startedAt: UInt64)
        case pipeline(PipelineRun, PipelineSlot)
    }

    struct Pending {
        let waiter: Waiter
        let deadline: Int64
        /// When the request was (last) sent: it counts as lost with a broker that falls silent
        /// only when sent no later than the broker was last heard.
        var sentAt: Int64
        /// Whether the request takes room in the broker's limit of calls and scatters in flight
        /// per client: a call or scatter sent, or about to be. False for one that waits in the
        /// client for room (see ``waitForRoom(_:)``) and for requests of other kinds.
        var countsInFlight = false

        /// When the client's own timer ends the wait: for a call, ``callSlackMilliseconds`` after
        /// its deadline, since the broker times the call out itself and says why (TIMEOUT with the
        /// call cancelled on its worker, or UNKNOWN_FUNCTION when no worker serves it); the timer
        /// only ends the wait of a call the broker did not answer. Any other request's deadline.
        var timerAt: Int64 {
            switch waiter {
            case .pipeline, .call(is CallRequest): deadline + ClientLoop.callSlackMilliseconds
            case .call, .scatter: deadline
            }
        }

        /// Why the wait ended at its deadline: for a call, the words the broker uses when it times
        /// the call out itself, so that a caller sees the same message whichever side's timer
        /// fired first (the client's, by the time the CALL takes to reach the broker).
        var timeoutMessage: String {
            if !countsInFlight, let message = heldTimeoutMessage { return message }
            return switch waiter {
            case .call(let waiter as CallRequest): ErrorCode.timeoutMessage(function: waiter.function)
            case .pipeline(let run, _): ErrorCode.timeoutMessage(function: run.function)
            case .call, .scatter: "no answer within the time limit"
            }
        }

        /// Ends the wait with `error`.
        func fail(_ error: GridError) {
            switch waiter {
            case .call(let waiter): waiter.resume(.failure(error))
            case .scatter(let sink, _): sink.events.finish(throwing: error)
            case .pipeline(let run, let slot): run.record(slot, .failure(error))
            }
        }
    }

    /// How long past its time limit the client waits for a scatter's last parts from the broker,
    /// which times out the parts itself and says why each is missing.
    static let scatterSlackMilliseconds: Int64 = 250

    /// How long past its time limit the client waits for the broker's answer to a call (see
    /// ``Pending/timerAt``).
    static let callSlackMilliseconds: Int64 = 50

    struct Deadline: Comparable {
        let at: Int64
        let id: UInt64
        static func < (lhs: Deadline, rhs: Deadline) -> Bool { (lhs.at, lhs.id) < (rhs.at, rhs.id) }
    }

    /// The broker endpoint.
    let broker: String
    let heartbeat: HeartbeatSettings
    /// The CURVE settings of the connection; nil when CURVE is off.
    let security: PeerSecurity?
    private let mailbox: Mailbox<ClientCommandItem>
    private let executor: LoopExecutor
    let logger: Logger
    /// Told once whether the socket could connect to `broker` (the endpoint is valid).
    private let connected: ConnectOutcome
    /// Where the ids of a run's calls come from (shared with the calling tasks).
    let ids: RequestIDs
    var pending = PendingTable()
    var deadlines = DeadlineQueue<Deadline>()
    /// Cancels that arrived before their call (the task was cancelled while posting), with when.
    private var earlyCancels: [UInt64: Int64] = [:]
    var inbox: [ClientCommandItem] = []
    /// Open event subscriptions by request id, with the last seq delivered and acknowledged.
    private var subscriptions: [UInt64: (state: SubscriptionState, lastSeen: UInt64?, acked: UInt64)] = [:]
    private var lastHeard: Int64 = 0
    /// Whether any message came from a broker since the client started.
    private(set) var heardAnyBroker = false
    /// Whether a connection's handshake succeeded since the connection last dropped: the
    /// connection then carried the requests sent meanwhile. (A message from the broker implies
    /// it: the monitor reports the handshake before the loss.)
    var handshakeSinceDrop = false
    /// Why the last connection's handshake failed, when no handshake has succeeded since (see
    /// ``handshakeFailureMessage(refusedKey:curve:)``): a silent broker's errors say it.
    var handshakeFailure: String?
    /// Whether the broker's last message was under the tag of another protocol version.
    private var speaksOtherVersion = false
    /// Requests in ``pending`` kept when the connection dropped, to send again once a new
    /// connection's handshake succeeds (see ``connectionDropped()``).
    var awaitingResend: Set<UInt64> = []
    /// When the connection last dropped (after its handshake had succeeded).
    var droppedAt: Int64 = 0
    /// Whether the connection dropped and no new one's broker has said its limits yet: requests
    /// made meanwhile are held in the client, not queued in the socket, so that one that cannot
    /// wait longer fails as never sent (see ``expireHeldAfterDrop(now:)``).
    var connectionDown = false
    private var nextHeartbeat: Int64 = 0
    /// How many items the loop has taken from its callers (calls, scatters, commands): the
    /// activity that ``trim`` watches.
    private var itemsTaken: UInt64 = 0
    /// Hands the heap's freed memory back once a burst of calls has ended (at heartbeats).
    private var trim = TrimAfterBurst()
    private var brokerSilent = false
    /// Subscriptions the broker no longer knows, to subscribe again.
    private var resubscribe: [UInt64] = []
    /// When each subscription was last sent again, until the broker confirms it: the answers to
    /// acknowledgements queued while the broker was away each say it does not know the
    /// subscription, and one new SUBSCRIBE answers them all.
    private var resubscribedAt: [UInt64: Int64] = [:]
    private var closing = false
    /// Whether this pass resumed callers with results: a caller often calls again at once.
    private var resumedCallers = false
    /// How long the loop waits, yielding its CPU, for a resumed caller's next call before it
    /// blocks in poll, when no other call is in flight: a caller on another thread that calls again
    /// at once then costs no wake-up. (With calls in flight, their results wake the loop anyway.)
    private static let callerGraceNanoseconds: UInt64 = 30_000
    /// Calls of this mailbox drain, sent together (CALLS) when it ends.
    var outgoing: [OutgoingCall] = []
    /// Runs of ``GridClient/callEach(_:_:inFlight:timeout:idempotent:priority:)`` in progress.
    var pipelines: [PipelineRun] = []
    /// The most calls one CALLS may carry: 0 (send CALL only) until the broker's HEARTBEAT said
    /// how many frames it takes in one message.
    var maxCallsPerMessage = 0
    /// The most bytes the broker takes in one frame, once its HEARTBEAT said: a larger payload is
    /// refused here, as libzmq in the broker would drop the connection, and every call on it.
    var maxFrameBytes: Int?
    /// Whether the broker of this connection has sent a HEARTBEAT (and with it its limits), since
    /// the connection started or the broker was last silent. Until then, a request with a frame
    /// over ``alwaysAcceptedFrameBytes`` is held: the broker's limit may be lower.
    var limitsHeard = false
    /// Set by a HEARTBEAT that ended ``limitsHeard`` being false: the held requests go out this pass.
    var limitsJustHeard = false
    /// Calls (waiting in ``pending``) held until the broker's limits are known.
    var heldCalls: [OutgoingCall] = []
    /// Other requests held until the broker's limits are known, with their deadlines.
    var heldItems: [(item: ClientCommandItem, deadline: Int64, since: Int64)] = []
    /// The request table of a CALLS being built.
    private var scratch: [UInt8] = []
    /// The most calls and scatters kept in flight at the broker at once: the broker's limit per
    /// client (``brokerInFlightLimit``), or the application's own (``ownInFlightLimit``) when lower;
    /// 1 until a broker's HEARTBEAT has said its limit.
    var maxInFlight: Int
    /// The limit of calls and scatters in flight the application set (`inFlightLimit`), if any.
    let ownInFlightLimit: Int?
    /// The broker's limit of calls and scatters in flight per client, as its last HEARTBEAT said
    /// (``GridClient/maxInFlight`` from a broker that does not say); nil until a HEARTBEAT came.
    var brokerInFlightLimit: Int?
    /// Calls and scatters waiting in the client for room under ``maxInFlight``, in the order they
    /// were made, from ``roomQueueHead`` on (each also waits in ``pending``).
    var roomQueue: [RoomWaiter] = []
    /// The first entry of ``roomQueue`` still waiting.
    var roomQueueHead = 0

    init(
        broker: String, heartbeat: HeartbeatSettings, security: PeerSecurity?, mailbox: Mailbox<ClientCommandItem>, executor: LoopExecutor,
        connected: ConnectOutcome, ids: RequestIDs, inFlightLimit: Int? = nil, logger: Logger
    ) {
        ownInFlightLimit = inFlightLimit
        maxInFlight = 1
        self.connected = connected
        self.ids = ids
        self.broker = broker
        self.security = security
        self.heartbeat = heartbeat
        self.mailbox = mailbox
        self.executor = executor
        self.logger = logger
    }

    mutating func run(_ context: Context) {
        // What this thread posts to its own mailbox or executor is taken before the loop blocks.
        mailbox.adoptCurrentThread()
        executor.adoptCurrentThread()
        do {
            let socket = try Socket(context, type: .dealer)
            // Backing off to at most 500 ms: a broker back after a restart is reached within half a
            // second, well inside the expiry that requests kept for it wait (see connectionDropped()).
            try socket.setReconnectInterval(milliseconds: 100, max: 500)
            try socket.setSendHighWaterMark(0)
            try socket.setReceiveHighWaterMark(0)
            try socket.secure(security)
            let disconnects = try Self.watchDisconnects(of: socket, context)
            try socket.connect(broker)
            connected.report(nil)
            try serve(socket, disconnects: disconnects)
        } catch {
            connected.report(error)
            logger.error("client connection failed: \(error)")
        }
        failAll(.closed)
        var poller = Poller([mailbox.signal.pollItem, executor.pollItem])
        while !closing {
            // Keep answering callers until close() so no continuation is left hanging.
            executor.runPendingJobs(signalled: poller.isReadable(1))
            mailbox.take(into: &inbox, signalled: poller.isReadable(0))
            for item in inbox {
                Self.reject(item, .closed)
                if case .close = item { closing = true }
            }
            inbox.removeAll()
            let idle = !mailbox.hasItems && !executor.hasPendingJobs
            _ = try? poller.poll(timeoutMilliseconds: idle ? 1000 : 0)
        }
        executor.shutdown()
        // Calls posted from here on, by callers that checked the client open just before close(),
        // are answered at once on their own thread.
        for item in mailbox.close(rejectingWith: { Self.reject($0, .closed) }) { Self.reject(item, .closed) }
    }

    private mutating func serve(_ socket: borrowing Socket, disconnects: borrowing Socket) throws(ZMQError) {
        let buffer = Multipart(capacity: 256)
        // The monitor's socket is polled on its descriptor alone (it is drained whenever that turns
        // readable, and once here): asking it for its readiness would cost a system call a poll.
        var poller = Poller([socket.pollItem(), mailbox.signal.pollItem, executor.pollItem, try disconnects.drainedPollItem()])
        for event in try connectionEvents(disconnects, into: buffer) { try connectionChanged(event, socket) }
        let now = MonotonicClock.nowMilliseconds()
        lastHeard = now
        nextHeartbeat = now
        while !closing {
            let current = MonotonicClock.nowMilliseconds()
            var wake = nextHeartbeat
            if let first = deadlines.min { wake = min(wake, first.at) }
            if !pipelines.isEmpty, let retry = pipelines.lazy.compactMap(\.nextRetry).min() { wake = min(wake, retry) }
            if !awaitingResend.isEmpty { wake = min(wake, current + Self.awaitingResendCheckMilliseconds) }
            if mailbox.hasItems || executor.hasPendingJobs { wake = current }
            if resumedCallers && pending.isEmpty && wake > current && mailbox.awaitItems(nanoseconds: Self.callerGraceNanoseconds) {
                wake = current
            }
            resumedCallers = false
            try poller.poll(timeoutMilliseconds: Int(max(0, wake - current)))
            if poller.isReadable(0) {
                while try socket.receive(into: buffer) { handleMessage(buffer) }
            }
            if poller.isReadable(3) {
                let events = try connectionEvents(disconnects, into: buffer)
                // Answers that came on a lost connection count first.
                if events.contains(.disconnected) { while try socket.receive(into: buffer) { handleMessage(buffer) } }
                for event in events { try connectionChanged(event, socket) }
            }
            if limitsJustHeard { try releaseHeld(socket) }
            // Tasks running on this thread's executor continue here; the calls they make go out below.
            executor.runPendingJobs(signalled: poller.isReadable(2))
            for id in resubscribe {
                guard let subscription = subscriptions[id] else { continue }
                var request = subscription.state.request
                request.after = subscription.lastSeen ?? request.after
                try sendSubscribe(socket, id: id, request)
            }
            resubscribe.removeAll()
            // Calls and scatters that waited for room go before those made since.
            if hasWaitingForRoom { try sendWaitingForRoom(socket) }
            try drainMailbox(socket, signalled: poller.isReadable(1))
            if !pipelines.isEmpty { advancePipelines() }
            if !outgoing.isEmpty { try sendCalls(socket) }
            try timers(socket)
            if hasWaitingForRoom { try sendWaitingForRoom(socket) }
            if !pipelines.isEmpty { advancePipelines() }
            if !outgoing.isEmpty { try sendCalls(socket) }
        }
    }

    /// The error for a request whose largest frame has `largestFrame` bytes, over the broker's
    /// limit; nil when it fits, or before the broker has said its limit.
    func oversized(_ largestFrame: Int) -> GridError? {
        guard let limit = maxFrameBytes, largestFrame > limit else { return nil }
        return .invalidArgument(
            "a payload frame of \(largestFrame) bytes is over the broker's limit of \(limit) bytes (max_message_bytes)")
    }

    /// ``oversized(_:)`` for the largest of `frames`.
    func oversized(largestOf frames: [[UInt8]]) -> GridError? {
        oversized(frames.lazy.map(\.count).max() ?? 0)
    }

    private mutating func drainMailbox(_ socket: borrowing Socket, signalled: Bool) throws(ZMQError) {
        mailbox.take(into: &inbox, signalled: signalled)
        defer { inbox.removeAll(keepingCapacity: true) }
        itemsTaken &+= UInt64(inbox.count)
        let now = MonotonicClock.nowMilliseconds()
        for item in inbox { try process(item, socket, now: now) }
    }

    /// Handles one item from a calling task.
    mutating func process(_ item: ClientCommandItem, _ socket: borrowing Socket, now: Int64) throws(ZMQError) {
        // Nothing goes out after the close: a request read after it in the same pass (its caller
        // found the client open a moment before) fails as closed, as one posted later does.
        if closing {
            Self.reject(item, .closed)
            return
        }
        if case .call = item {
        } else if !outgoing.isEmpty {
            try sendCalls(socket)  // calls before anything that may name them (CANCEL)
        }
        if !limitsHeard, let deadline = Self.deadlineIfHeld(item, now: now, holdingAll: connectionDown) {
            heldItems.append((item, deadline, now))
            return
        }
        switch item {
        case .call(let call):
            if let error = oversized(call.payload.count) {
                call.resume(.failure(error))
                return
            }
            let room = hasRoom
            let waiting = Pending(waiter: .call(call), deadline: now + call.timeoutMilliseconds, sentAt: now, countsInFlight: room)
            guard awaitAnswer(call.id, waiting) else { return }
            guard room else {
                waitForRoom(.call(call.id))
                return
            }
            send(OutgoingCall(id: call.id, function: call.function, header: call.header, payload: call.payload))
            // A call waiting for its answer no longer holds its payload, unless it is idempotent:
            // that one goes out again if the connection drops before the answer comes.
            if !call.header.isIdempotent { call.payload = [] }
        case .pipeline(let run):
            pipelines.append(run)
        case .resume:
            break  // a run's consumer took outcomes: the pass goes on to send more
        case .request(let id, let command, let frames, let timeout, let waiter):
            if let error = oversized(largestOf: frames) {
                waiter.resume(.failure(error))
                return
            }
            guard awaitAnswer(id, Pending(waiter: .call(waiter), deadline: now + timeout, sentAt: now)) else { return }
            try socket.sendProtocolMessage(tag: ProtocolTag.client, command: command.rawValue, id: id, extra: frames)
        case .scatter(let id, let function, let header, let spec, let frames, let timeout, let sink):
            if let error = oversized(largestOf: frames) {
                sink.events.finish(throwing: error)
                return
            }
            let waiter = Waiter.scatter(sink, startedAt: MonotonicClock.nowNanoseconds())
            let room = hasRoom
            let waiting = Pending(
                waiter: waiter, deadline: now + timeout + Self.scatterSlackMilliseconds, sentAt: now, countsInFlight: room)
            guard awaitAnswer(id, waiting) else { return }
            guard room else {
                waitForRoom(.scatter(id: id, function: function, header: header, spec: spec, frames: frames))
                return
            }
            try sendScatter(socket, id: id, function: function, header: header, spec: spec, frames: frames)
        case .subscribe(let id, let request, let state):
            subscriptions[id] = (state, request.after, 0)
            try sendSubscribe(socket, id: id, request)
        case .acknowledge(let id):
            try acknowledge(socket, id: id, force: false)
        case .cancel(let id) where pipelines.contains(where: { $0.id == id }):
            try stopPipeline(id, socket)
        case .cancel(let id) where subscriptions[id] != nil:
            try acknowledge(socket, id: id, force: false)  // a named subscription resumes after what was taken
            subscriptions[id]?.state.continuation.finish()
            subscriptions[id] = nil
            resubscribedAt[id] = nil
            try socket.sendProtocolMessage(tag: ProtocolTag.client, command: ClientCommand.cancel.rawValue, id: id)
        case .cancel(let id):
            if let call = pending.removeValue(forKey: id) {
                call.fail(.cancelled)
                guard !call.waitsForRoom else { return }  // it waited for room: the broker never had it
                try socket.sendProtocolMessage(tag: ProtocolTag.client, command: ClientCommand.cancel.rawValue, id: id)
            } else if !cancelHeld(id) {
                earlyCancels[id] = now
            }
        case .close:
            closing = true
            for id in subscriptions.keys { try acknowledge(socket, id: id, force: false) }
            for id in Array(pending.lazy.filter({ !$0.value.waitsForRoom }).map(\.key)) + Array(subscriptions.keys) {
                try socket.sendProtocolMessage(tag: ProtocolTag.client, command: ClientCommand.cancel.rawValue, id: id)
            }
            failAll(.closed)
            try? socket.setLinger(milliseconds: 200)
        }
    }

    /// Starts waiting for the answer to request `id`; false, with the waiter ended `cancelled`,
    /// when the request's CANCEL came first (its task was cancelled while posting).
    private mutating func awaitAnswer(_ id: UInt64, _ call: Pending) -> Bool {
        if !earlyCancels.isEmpty, earlyCancels.removeValue(forKey: id) != nil {
            call.fail(.cancelled)
            return false
        }
        pending[id] = call
        insertDeadline(Deadline(at: call.timerAt, id: id))
        return true
    }

    /// Adds a deadline; entries of answered calls are dropped once they outnumber the calls
    /// waiting (see ``DeadlineQueue/insert(_:live:slack:rebuiltFrom:)``).
    mutating func insertDeadline(_ entry: Deadline) {
        deadlines.insert(
            entry, live: pending.count, slack: 1024, rebuiltFrom: pending.lazy.map { Deadline(at: $0.value.timerAt, id: $0.key) })
    }

    /// Sends the calls held by ``drainMailbox(_:signalled:)``: CALL each, or CALLS for several once the broker
    /// said how many it takes.
    private mutating func sendCalls(_ socket: borrowing Socket) throws(ZMQError) {
        defer { outgoing.removeAll(keepingCapacity: true) }
        try BatchedRequest.forEachMessage(of: outgoing.count, perMessage: maxCallsPerMessage) { (index) throws(ZMQError) in
            try sendCall(outgoing[index], socket)
        } batch: { (range) throws(ZMQError) in
            // The request table is a frame too: as many calls as its size allows go in each CALLS.
            var start = range.lowerBound
            while start < range.upperBound {
                scratch.removeAll(keepingCapacity: true)
                var end = start
                while end < range.upperBound {
                    let before = scratch.count
                    BatchedRequest.encode(
                        id: outgoing[end].id, header: outgoing[end].header, function: outgoing[end].function, into: &scratch)
                    if let limit = maxFrameBytes, scratch.count > limit, end > start {
                        scratch.removeSubrange(before...)
                        break
                    }
                    end += 1
                }
                if end - start == 1 {
                    try sendCall(outgoing[start], socket)
                } else if try socket.sendBatchEnvelope(tag: ProtocolTag.client, command: ClientCommand.calls.rawValue) {
                    try socket.send(scratch, more: true)
                    for index in start..<end { try socket.send(outgoing[index].payload, more: index < end - 1) }
                }
                start = end
            }
        }
    }

    /// Sends one call as CALL.
    private func sendCall(_ call: OutgoingCall, _ socket: borrowing Socket) throws(ZMQError) {
        try socket.sendProtocolMessage(
            tag: ProtocolTag.client, command: ClientCommand.call.rawValue, id: call.id, function: call.function, header: call.header,
            extra: [call.payload])
    }

    private mutating func handleMessage(_ buffer: Multipart) {
        if let theirs = ProtocolVersion.otherVersion(of: ProtocolTag.client, in: buffer, at: 0) {
            brokerSpeaks(theirs)
            return
        }
        if speaksOtherVersion { speaksOtherVersion = false }
        lastHeard = MonotonicClock.nowMilliseconds()
        heardAnyBroker = true
        if brokerSilent {
            brokerSilent = false
            logger.info("broker answering again")
        }
        switch ClientInbound.decode(buffer) {
        case .failure(let reason):
            logger.warning("dropped malformed message from the broker: \(reason)")
        case .success(.reply(let id, let payloadStart)):
            answer(id) { Self.payload(buffer, from: payloadStart) }
        case .success(.failure(let id, let code, let message, _)) where subscriptions[id] != nil:
            if code == .unknownSubscription {
                // The broker restarted or expired it: subscribe again after the last event delivered,
                // unless that was just done (a lost SUBSCRIBE is sent again after the expiry).
                let now = MonotonicClock.nowMilliseconds()
                if let sentAt = resubscribedAt[id], now - sentAt < heartbeat.expiryMilliseconds { return }
                resubscribedAt[id] = now
                resubscribe.append(id)
            } else {
                resubscribedAt[id] = nil
                subscriptions.removeValue(forKey: id)?.state.continuation.finish(throwing: GridError(code: code, message: message))
            }
        case .success(.failure(let id, let code, let message, let retryAfter)):
            guard let call = pending.removeValue(forKey: id) else { return }
            let error = GridError(code: code, message: message, retryAfterMilliseconds: retryAfter)
            if case .pipeline(let run, let slot) = call.waiter {
                run.failed(slot, error, deadline: call.deadline, now: MonotonicClock.nowMilliseconds())
            } else {
                call.fail(error)
            }
        case .success(.event(let id, let payloadStart)):
            guard var subscription = subscriptions[id] else { return }
            let decoder = JSONDecoder()
            for index in payloadStart..<buffer.count {
                guard let event = try? decoder.decode(GridEvent.self, from: Data(buffer.bytes(index))) else {
                    logger.warning("dropped an event the client cannot decode")
                    continue
                }
                if event.kind == .subscribed {
                    resubscribedAt[id] = nil
                    if let lastSeen = subscription.lastSeen, event.seq < lastSeen {
                        // The broker's log does not reach the last seq delivered: it keeps none and
                        // restarted (or is another broker), numbering its events from here again.
                        // Delivered and acknowledged positions count from here, or the consumer
                        // would acknowledge nothing until the new seqs passed the old ones.
                        subscription.lastSeen = event.seq
                        subscription.acked = event.seq
                    }
                    if subscription.lastSeen == nil { subscription.lastSeen = event.seq }
                    // Acknowledge often enough for the window the broker applies, not the guessed one.
                    if let window = event.window, window >= 1 { subscription.state.window.store(window, ordering: .relaxed) }
                } else {
                    subscription.lastSeen = max(subscription.lastSeen ?? 0, event.seq)
                }
                subscription.state.continuation.yield(event)
            }
            subscriptions[id] = subscription
        case .success(.heartbeat(let frameLimit, let frameBytesLimit, let inFlightLimit)):
            if let frameLimit { maxCallsPerMessage = BatchedRequest.perMessage(frameLimit: frameLimit) }
            if let frameBytesLimit { maxFrameBytes = frameBytesLimit }
            adoptInFlightLimit(inFlightLimit)
            if !limitsHeard {
                limitsHeard = true
                limitsJustHeard = true
            }
        case .success(.replies(let requestIDs)):
            for (position, id) in requestIDs.enumerated() { answer(id) { buffer.bytes(3 + position) } }
        case .success(.part(let id, let header, let payloadStart)):
            guard let call = pending[id], case .scatter(let sink, let startedAt) = call.waiter else { return }
            let result: Result<[UInt8], GridError>
            if let code = header.error {
                let message = payloadStart < buffer.count ? String(decoding: buffer.bytes(payloadStart), as: UTF8.self) : ""
                result = .failure(GridError(code: code, message: message))
            } else {
                result = .success(Self.payload(buffer, from: payloadStart))
            }
            let elapsed = Duration.nanoseconds(Int64(MonotonicClock.nowNanoseconds() - startedAt))
            sink.events.yield(.part(ScatterPart(index: Int(header.index), result: result, elapsed: elapsed)))
        case .success(.parts(let id, let start)):
            guard let call = pending[id], case .scatter(let sink, let startedAt) = call.waiter else { return }
            let elapsed = Duration.nanoseconds(Int64(MonotonicClock.nowNanoseconds() - startedAt))
            for index in stride(from: start, to: buffer.count - 1, by: 2) {
                guard let header = buffer.withBytes(index, { PartHeader(decoding: $0) }) else { continue }
                let result: Result<[UInt8], GridError> =
                    header.error.map { .failure(GridError(code: $0, message: String(decoding: buffer.bytes(index + 1), as: UTF8.self))) }
                    ?? .success(buffer.bytes(index + 1))
                sink.events.yield(.part(ScatterPart(index: Int(header.index), result: result, elapsed: elapsed)))
            }
        case .success(.accepted(let id, let jobID)):
            answer(id) { .bigEndian(jobID) }
        case .success(.jobReply(let id, let payloadStart)):
            answer(id) { Self.payload(buffer, from: payloadStart) }
        case .success(.done(let id, let summary)):
            guard let call = pending[id], case .scatter(let sink, _) = call.waiter else { return }
            pending[id] = nil
            sink.events.yield(.done(summary))
            sink.events.finish()
        }
    }

    /// Resumes the caller of call `id`, if it still waits, with the bytes `result` makes.
    private mutating func answer(_ id: UInt64, with result: () -> [UInt8]) {
        guard let call = pending.removeValue(forKey: id) else { return }
        switch call.waiter {
        case .call(let waiter):
            resumedCallers = true
            waiter.resume(.success(result()))
        case .pipeline(let run, let slot):
            run.record(slot, .success(result()))
        case .scatter:
            pending[id] = call  // a scatter's id: not answered by a REPLY
        }
    }

    /// The payload frames from `start` on as one byte array.
    private static func payload(_ buffer: Multipart, from start: Int) -> [UInt8] {
        if buffer.count - start == 1 { return buffer.bytes(start) }
        return (start..<buffer.count).flatMap { buffer.bytes($0) }
    }

    private mutating func timers(_ socket: borrowing Socket) throws(ZMQError) {
        let now = MonotonicClock.nowMilliseconds()
        if !heldItems.isEmpty { expireHeldItems(now: now) }
        if connectionDown { expireHeldAfterDrop(now: now) }
        if !awaitingResend.isEmpty { expireAwaitingResend(now: now) }
        while let first = deadlines.min, first.at <= now {
            deadlines.removeMin()
            guard let call = pending[first.id], call.timerAt == first.at else { continue }
            pending[first.id] = nil
            call.fail(.timeout(call.timeoutMessage))
            guard !call.waitsForRoom else { continue }
            try socket.sendProtocolMessage(tag: ProtocolTag.client, command: ClientCommand.cancel.rawValue, id: first.id)
        }
        if !heldCalls.isEmpty { forgetEndedHeldCalls() }  // timed out or cancelled while held
        guard now >= nextHeartbeat else { return }
        nextHeartbeat = now + heartbeat.intervalMilliseconds
        shrinkAfterBurst()
        trim.check(now: now, activity: itemsTaken)
        try socket.sendProtocolMessage(tag: ProtocolTag.client, command: ClientCommand.heartbeat.rawValue)
        // Keepalive acknowledgements only while the broker answers: sent to a silent one, they
        // would wait in the socket and all reach it at once when it is back.
        if !brokerSilent { for id in subscriptions.keys { try acknowledge(socket, id: id, force: true) } }
        if now - lastHeard > heartbeat.expiryMilliseconds && !brokerSilent {
            brokerSilent = true
            // The broker may come back restarted with another frame limit: single CALLs until it says.
            maxCallsPerMessage = 0
            maxFrameBytes = nil
            limitsHeard = false
            // No HEARTBEAT has said the broker's limit of calls in flight: those waiting for it go
            // out as they did before clients knew of the limit, and fail with the others.
            if brokerInFlightLimit == nil {
                maxInFlight = ownInFlightLimit ?? GridClient.maxInFlight
                if hasWaitingForRoom { try sendWaitingForRoom(socket) }
                if !pipelines.isEmpty { advancePipelines() }
                if !outgoing.isEmpty { try sendCalls(socket) }
            }
            // Calls sent before the broker fell silent may be lost with it; later ones wait in the
            // socket's queue for the reconnect and keep their own deadlines. Those kept when the
            // connection dropped wait for the expiry counted from the drop. A broker never heard
            // since the start fails every call sent until now: none has a broker to wait for.
            let lost = pending.filter {
                (!heardAnyBroker || $0.value.sentAt <= lastHeard) && !awaitingResend.contains($0.key) && !$0.value.waitsForRoom
            }
            let why = handshakeFailure.map { "; \($0)" } ?? ""
            logger.warning("broker silent for \(now - lastHeard) ms; failing \(lost.count) calls sent before\(why)")
            let reason = silenceReason(silentFor: now - lastHeard) + why
            for (id, call) in lost {
                pending[id] = nil
                call.fail(.brokerUnreachable(reason))
            }
        }
        earlyCancels = earlyCancels.filter { now - $0.value < 60_000 }
    }

    private func sendSubscribe(_ socket: borrowing Socket, id: UInt64, _ request: SubscribeRequest) throws(ZMQError) {
        let json = (try? JSONEncoder().encode(request)).map(Array.init) ?? []
        try socket.sendProtocolMessage(tag: ProtocolTag.client, command: ClientCommand.subscribe.rawValue, id: id, extra: [json])
    }

    /// Sends EVENT-ACK with the consumer's position when it moved (or always, as a keepalive).
    private mutating func acknowledge(_ socket: borrowing Socket, id: UInt64, force: Bool) throws(ZMQError) {
        guard let subscription = subscriptions[id] else { return }
        // Not past the last seq delivered: a consumer still taking events of a broker whose
        // numbering started again (see `.subscribed`) would acknowledge seqs not yet sent.
        let consumed = min(subscription.state.consumed.load(ordering: .relaxed), subscription.lastSeen ?? .max)
        guard force || consumed > subscription.acked else { return }
        subscriptions[id]?.acked = max(consumed, subscription.acked)
        try socket.sendProtocolMessage(
            tag: ProtocolTag.client, command: ClientCommand.eventAck.rawValue, id: id, extra: [.bigEndian(consumed)])
    }

    /// A message under the tag of another protocol version, `theirs`: this client and its broker
    /// cannot understand each other, so every request fails at once, saying so (the first time
    /// logged as an error), rather than at its time limit. Such a message is not taken for a sign
    /// of life: calls made later fail on the broker's next message, or as for a silent broker.
    private mutating func brokerSpeaks(_ theirs: String) {
        let reason = ProtocolVersion.mismatch(peer: "broker", speaks: theirs, side: "client", ours: ProtocolTag.client)
        if !speaksOtherVersion {
            speaksOtherVersion = true
            logger.error("\(reason) (broker \(broker))")
        }
        awaitingResend.removeAll()
        failAll(.brokerUnreachable(reason))
    }

    private mutating func failAll(_ error: GridError) {
        for (item, _, _) in heldItems { Self.reject(item, error) }
        heldItems.removeAll()
        heldCalls.removeAll()  // each waits in `pending`, failed below
        roomQueue.removeAll()  // likewise
        roomQueueHead = 0
        for run in pipelines { run.finish(throwing: error) }
        pipelines.removeAll()
        for subscription in subscriptions.values { subscription.state.continuation.finish(throwing: error) }
        subscriptions.removeAll()
        for call in pending.values { call.fail(error) }
        pending.removeAll()
        deadlines.removeAll()
    }

    static func reject(_ item: ClientCommandItem, _ error: GridError) {
        switch item {
        case .call(let call): call.resume(.failure(error))
        case .request(_, _, _, _, let waiter): waiter.resume(.failure(error))
        case .scatter(_, _, _, _, _, _, let sink): sink.events.finish(throwing: error)
        case .subscribe(_, _, let subscription): subscription.continuation.finish(throwing: error)
        case .pipeline(let run): run.finish(throwing: error)
        case .cancel, .close, .acknowledge, .resume: break
        }
    }
}
