import Foundation
import Logging
import ZGridJobStore
import ZGridProtocol
import ZeroMQ

/// The poll loop: a thin shell that decodes messages, feeds ``BrokerCore`` and sends what it asks.
struct BrokerLoop {
    private var core: BrokerCore
    private let store: PayloadStore
    private let jobStore: JobStoreLink?
    private let logger: Logger
    private let publish: (BrokerSnapshot) -> Void
    private var actions: [BrokerAction] = []
    /// Call counts, latencies and swift-metrics for status reports and the metrics endpoint.
    private let observer = BrokerObserver()
    /// The HTTP metrics endpoint, when configured.
    private let metrics: MetricsEndpoint?
    /// The CURVE admission gate, when security is on.
    private let security: SecurityGate?
    /// MDP/0.1 and MMI peers, translated at the decode point and in ``perform(_:)``.
    private var majordomo = MajordomoBridge()
    /// Sends the HEARTBEATs to ZGW01 workers and notes those whose connection is gone.
    private var probe = WorkerProbe()
    /// The event log and its subscriptions.
    private var hub: EventHub
    private var hubTickAt: Int64 = 0
    /// Scatter parts of the current pass, sent together per scatter.
    private var partBatcher = PartBatcher()
    /// Requests of the current pass, sent together per worker.
    private var requestBatcher = RequestBatcher()
    /// Call results of the current pass, sent together per client.
    private var replyBatcher = ReplyBatcher()
    /// The most frames a message may have (the routing identity included), as sent in HEARTBEATs.
    private let frameLimit: [UInt8]
    /// The most frames a message may have (the routing identity included): `[broker] max_frames`.
    private let maxFrames: Int
    /// The most events one EVENT message carries.
    static let eventsPerMessage = 64
    /// How long the socket, once the loop stops, keeps sending the answers still queued on it.
    static let stopLingerMilliseconds: Int32 = 1000
    /// The most bytes a frame may have (libzmq drops a peer that sends more), as sent in HEARTBEATs.
    private let frameBytesLimit: [UInt8]
    /// The most calls and scatters one client may have in flight, as sent in HEARTBEATs to clients.
    private let inFlightLimit: [UInt8]
    /// When the loop next hands freed heap memory back to the system.
    private var nextTrimAt: Int64 = 0

    /// How often freed heap memory is handed back to the system, in milliseconds: the interval
    /// workers and clients trim at after a burst.
    private static let trimInterval = TrimAfterBurst.defaultInterval
    private var noticeCount = 0
    /// Logs the job store's failed commits without a line per failed commit (see ``StoreFailureLog``).
    private var storeFailureLog = StoreFailureLog()
    private var jobCounts: [String: Int] = [:]
    /// The counters as last read, in the order of ``counterNames``.
    private var counterValues: [Int] = []
    /// Set once a stop was asked: when the loop ends at the latest.
    private var stopDeadline: Int64?
    /// Whether the server was asked to refuse new work before its stop (read once per pass of the
    /// loop until it holds, then the core remembers it).
    private let refusingNewWork: () -> Bool
    /// Whether the stop asked is a forced one, which ends the grace at once (read when the stop
    /// signal wakes the loop).
    private let forcedStop: () -> Bool
    private let shutdownGraceMilliseconds: Int64
    private var jobCountsAt: Int64 = -1_000_000
    private var lastPublished: Int64 = 0
    private var lastWorkerCount = -1
    private var unpublished = true

    /// How often the loop publishes its snapshot for other threads, in milliseconds.
    private static let publishInterval: Int64 = 20

    /// How many messages are read per wake before timers are checked again; a batched message
    /// counts once per call or result it carries.
    private static let burst = 256

    init(
        configuration: BrokerConfiguration, jobStore: JobStoreLink?, metrics: MetricsEndpoint? = nil, security: SecurityGate? = nil,
        logger: Logger, refusing: @escaping () -> Bool = { false }, forced: @escaping () -> Bool = { false },
        publish: @escaping (BrokerSnapshot) -> Void
    ) {
        self.refusingNewWork = refusing
        self.forcedStop = forced
        self.metrics = metrics
        self.security = security
        shutdownGraceMilliseconds = configuration.shutdownGraceMilliseconds
        core = BrokerCore(options: configuration.options, now: MonotonicClock.nowMilliseconds())
        var events = configuration.events
        events.record = events.record && jobStore != nil
        hub = EventHub(options: events)
        core.wallNow = JobStoreLink.wallNow()
        store = PayloadStore(framesPerMessage: configuration.maxFrames)
        frameLimit = .bigEndian(UInt32(configuration.maxFrames))
        maxFrames = configuration.maxFrames
        frameBytesLimit = .bigEndian(UInt32(clamping: configuration.maxMessageBytes))
        inFlightLimit = .bigEndian(UInt32(clamping: configuration.options.maxInFlightPerClient))
        self.jobStore = jobStore
        self.logger = logger
        self.publish = publish
        actions.reserveCapacity(64)
    }

    /// Continues the event log after `maxSeq`, with the stored positions of named subscriptions.
    mutating func recoverEvents(maxSeq: Int64, positions: [String: Int64]) {
        hub = EventHub(options: hub.options, maxSeq: maxSeq, positions: positions)
    }

    /// Takes the unfinished jobs found in the store; their follow-up writes go out when the loop starts.
    mutating func recover(_ records: [JobRecord], maxID: Int64, scheduleSlots: [String: ScheduleSlot]) {
        core.recoverJobs(records, maxID: maxID, scheduleSlots: scheduleSlots, now: MonotonicClock.nowMilliseconds(), into: &actions)
    }

    /// Runs until the stop signal.
    mutating func run(_ socket: borrowing Socket, stop: WakeSignal) {
        jobStore?.start()
        do { try perform(socket) } catch { logger.error("socket failed: \(error)") }
        var items = [socket.pollItem(), stop.pollItem]
        if let jobStore { items.append(jobStore.events.signal.pollItem) }
        let metricsIndex = items.count
        if let metrics { items.append(metrics.pollItem) }
        let securityIndex = items.count
        if let security {
            // The monitor is polled on its descriptor alone (see `drainedPollItem`): drained at
            // every wake-up it has, and once here.
            do {
                items += [security.zap.pollItem(), try security.monitor.drainedPollItem()]
                for line in try security.readMonitor() { logger.warning("\(line)") }
            } catch {
                logger.error("socket failed: \(error)")
                return
            }
        }
        var poller = Poller(items)
        while true {
            let now = MonotonicClock.nowMilliseconds()
            var wait = max(0, min(min(core.nextWakeup, hubTickAt) - now, 1000))
            if unpublished { wait = min(wait, Self.publishInterval) }
            do {
                try poller.poll(timeoutMilliseconds: Int(wait))
            } catch {
                if !error.isTerminated { logger.error("poll failed: \(error)") }
                return
            }
            if poller.isReadable(1) { stopAsked(stop) }
            if let stopDeadline, (core.callsInFlight == 0 && !core.awaitsCommits) || MonotonicClock.nowMilliseconds() >= stopDeadline {
                if core.callsInFlight > 0 {
                    logger.warning("broker stopped with \(Self.inFlight(core.callsInFlight)) still in flight; answering their callers")
                    core.abandonCallsAtStop(into: &actions)
                    try? perform(socket)
                }
                answerLastMessages(socket)
                settleCommits(socket)
                // The last answers are still on their way out: give them time before the socket closes.
                try? socket.setLinger(milliseconds: Self.stopLingerMilliseconds)
                return
            }
            do {
                core.wallNow = JobStoreLink.wallNow()
                // A stall (the process was stopped) is noticed before what waited during it is read.
                core.noticeOwnStall(now: MonotonicClock.nowMilliseconds(), into: &actions)
                if !core.refusingNewWork && refusingNewWork() {
                    core.refuseNewWork(now: MonotonicClock.nowMilliseconds(), into: &actions)
                    try perform(socket)
                }
                if poller.isReadable(0) { try readBurst(socket) }
                if let jobStore, poller.isReadable(2) { try storeEvents(jobStore, socket) }
                if let security, poller.isReadable(securityIndex) || poller.isReadable(securityIndex + 1) {
                    for line in try security.answerZAP() + security.readMonitor() { logger.warning("\(line)") }
                }
                if let metrics, poller.isReadable(metricsIndex) {
                    let observer = self.observer
                    try metrics.serve { observer.prometheusText() }
                }
                let after = MonotonicClock.nowMilliseconds()
                if after >= core.nextWakeup {
                    majordomo.keepClientsAlive(&core, now: after)
                    core.handle(.tick, now: after, into: &actions)
                    try perform(socket)
                }
                if after >= hubTickAt {
                    hub.tick(now: after, wallNow: core.wallNow)
                    hubTickAt = hub.nextWakeup(now: after)
                    try perform(socket)
                }
                if after >= nextTrimAt {
                    // After a burst (a large scatter, a flood of bad input) glibc keeps the freed
                    // pages; trimming now and then lets the resident size fall back.
                    nextTrimAt = after + Self.trimInterval
                    MemoryTrim.release()
                }
            } catch {
                if !error.isTerminated { logger.error("socket failed: \(error)") }
                return
            }
            unpublished = true
            let published = MonotonicClock.nowMilliseconds()
            guard published - lastPublished >= Self.publishInterval || core.workerCount != lastWorkerCount else { continue }
            lastPublished = published
            lastWorkerCount = core.workerCount
            unpublished = false
            if published - jobCountsAt >= 1000 {
                // Counting jobs walks every unfinished job in memory: once a second is enough.
                jobCounts = core.jobCounts
                jobCountsAt = published
            }
            readCounters()
            observer.publish(
                counterNames: Self.counterNames, values: counterValues, workers: core.workerCount, callsInFlight: core.callsInFlight,
                jobs: jobCounts, subscriptionsOpen: hub.subscriptionCount)
            var snapshot = BrokerSnapshot(
                statistics: core.statistics, workers: core.workerCount, callsInFlight: core.callsInFlight,
                functions: core.servedFunctions, heldPayloads: store.held, jobs: jobCounts)
            snapshot.securityRefusals = security?.refusals ?? 0
            publish(snapshot)
        }
    }

    /// The stop signal woke the loop. The first time: take no new work, let calls in flight finish
    /// within the grace. A forced stop, then or later, ends the grace now.
    private mutating func stopAsked(_ stop: WakeSignal) {
        stop.drain()
        let now = MonotonicClock.nowMilliseconds()
        if stopDeadline == nil {
            stopDeadline = now + shutdownGraceMilliseconds
            core.stopStartingJobs()
            // Its actions go out with the pass's next sends (or the stop's last ones).
            if !core.refusingNewWork { core.refuseNewWork(now: now, into: &actions) }
            logger.info("broker stopping: \(Self.inFlight(core.callsInFlight)) in flight, waiting up to \(shutdownGraceMilliseconds) ms")
        }
        if let deadline = stopDeadline, deadline > now, forcedStop() {
            stopDeadline = now
            if core.callsInFlight > 0 {
                logger.notice("broker stop forced: \(Self.inFlight(core.callsInFlight)) in flight not waited for")
            }
        }
    }

    /// At the end of a stop: reads the messages that arrived but were not read yet, and answers
    /// them as a stopping broker does (new calls, scatters and submits get SHUTTING_DOWN), so that
    /// their senders are not left waiting for a broker that is gone. Reads at most
    /// ``lastBursts`` bursts.
    private mutating func answerLastMessages(_ socket: borrowing Socket) {
        do {
            try perform(socket)
            for _ in 0..<Self.lastBursts {
                let more = try receiveBurst(socket)
                try perform(socket)
                guard more else { break }
            }
        } catch {
            logger.error("socket failed while the last messages were answered: \(error)")
        }
    }

    /// The most bursts of messages a stop reads to answer them (see ``answerLastMessages(_:)``).
    static let lastBursts = 64

    /// At the end of a stop: waits up to ``commitWaitMilliseconds`` for the job store to commit the
    /// submits (and cancels) the core still holds, and sends their ACCEPTED (and JOB-REPLY) answers. A stop that ended at its
    /// deadline may hold some; without their answers, a client would take a stored job for lost
    /// and submit it again.
    private mutating func settleCommits(_ socket: borrowing Socket) {
        guard let jobStore, core.awaitsCommits else { return }
        let until = MonotonicClock.nowMilliseconds() + Self.commitWaitMilliseconds
        var poller = Poller([jobStore.events.signal.pollItem])
        while core.awaitsCommits {
            let left = until - MonotonicClock.nowMilliseconds()
            guard left > 0 else {
                logger.error(
                    "the job store did not commit the last submits or cancels within \(Self.commitWaitMilliseconds) ms; their clients get no answer"
                )
                return
            }
            do {
                try poller.poll(timeoutMilliseconds: Int(left))
                if poller.isReadable(0) { try storeEvents(jobStore, socket) }
            } catch {
                logger.error("socket failed while the last submits were committed: \(error)")
                return
            }
        }
    }

    /// The longest a stop waits for the job store to commit the submits the core holds.
    static let commitWaitMilliseconds: Int64 = 5000

    /// "1 call or job attempt", "3 calls or job attempts": what the core counts as in flight, for logs.
    static func inFlight(_ count: Int) -> String {
        count == 1 ? "1 call or job attempt" : "\(count) calls or job attempts"
    }

    /// Reads up to ``burst`` messages, then sends everything they caused in one go: back-to-back
    /// sends let libzmq's I/O thread write them in few batches instead of waking once per message.
    private mutating func readBurst(_ socket: borrowing Socket) throws(ZMQError) {
        try receiveBurst(socket)
        try perform(socket)
    }

    private mutating func storeEvents(_ jobStore: JobStoreLink, _ socket: borrowing Socket) throws(ZMQError) {
        let now = MonotonicClock.nowMilliseconds()
        for event in jobStore.take() {
            switch event {
            case .committed(let tokens, _):
                storeFailureLog.committed(logger: logger)
                core.handle(.storeCommitted(tokens: tokens), now: now, into: &actions)
                hub.committed(tokens)
            case .read(let token, let result) where EventHub.owns(token):
                hub.readAnswered(token: token, result, wallNow: core.wallNow)
            case .read(let token, let result): core.handle(.storeRead(token: token, result), now: now, into: &actions)
            case .failed(let error, let tokens):
                storeFailureLog.failed(error, now: now, logger: logger)
                core.handle(.storeFailed(error, tokens: tokens), now: now, into: &actions)
                hub.storeFailed(tokens)
            }
        }
        try perform(socket)
    }

    /// Returns whether it stopped for its budget (more messages may wait), not for want of messages.
    @discardableResult
    private mutating func receiveBurst(_ socket: borrowing Socket) throws(ZMQError) -> Bool {
        var budget = Self.burst
        // New calls, scatters and submits are refused with SHUTTING_DOWN while stopping, or once
        // asked to (the core learns it when the stop is asked, or at the top of a pass of `run`).
        let refusing = core.refusingNewWork
        while budget > 0 {
            budget -= 1
            let (handle, buffer) = store.checkout()
            guard try socket.receive(into: buffer) else {
                store.release(handle)
                return false
            }
            let now = MonotonicClock.nowMilliseconds()
            let peer = buffer.count > 0 ? buffer.withBytes(0) { PeerID($0) } : PeerID([])
            if let security, buffer.count > 1 {
                // With CURVE on, the ZAP handler gave every connection a role: a client key may not
                // speak as a worker, nor a worker key as a client.
                let role = buffer.count > 1 ? buffer.property(1, "User-Id") ?? "" : ""
                let needed = BrokerInbound.speaksAsWorker(buffer) ? "worker" : "client"
                if !role.contains(needed) {
                    let refusal = RoleRefusal.clientError(buffer, role: role)
                    let workerReason = RoleRefusal.workerReason(buffer, role: role)
                    store.release(handle)
                    if let line = security.refuseRole(peer.description, role: role, command: needed + " command") {
                        logger.warning("\(line)")
                    }
                    if let refusal { try sendError(socket, to: peer, refusal.requestID, .malformed, refusal.message) }
                    if let workerReason {
                        try socket.sendProtocolMessage(
                            to: peer, tag: ProtocolTag.worker, command: WorkerCommand.disconnect.rawValue, extra: [Array(workerReason.utf8)]
                        )
                    }
                    continue
                }
            }
            let decoded: Result<BrokerInbound, MalformedReason>
            let fromMajordomo = MajordomoInbound.isMajordomo(buffer)
            if fromMajordomo {
                guard let translated = try majordomo.inbound(buffer, from: peer, core: core, socket: socket) else {
                    store.release(handle)
                    continue
                }
                decoded = translated
            } else {
                decoded = BrokerInbound.decode(buffer)
            }
            if case .success(.ready(_, _, let capabilities, _)) = decoded { requestBatcher.register(peer, capabilities: capabilities) }
            switch decoded {
            case .failure(let reason):
                let overlongReply = BrokerInbound.overlongReplyDispatchID(buffer)
                let otherVersion = reason == .unknownProtocol ? OtherVersionAnswer(buffer) : nil
                store.release(handle)
                core.handle(.malformed(from: peer, reason), now: now, into: &actions)
                switch otherVersion {
                case .clientError(let requestID, let message)?: try sendError(socket, to: peer, requestID, .malformed, message)
                case .workerDisconnect?:
                    try socket.sendProtocolMessage(to: peer, tag: ProtocolTag.worker, command: WorkerCommand.disconnect.rawValue)
                case nil: break
                }
                if let dispatchID = overlongReply, core.inFlightCount(of: peer) != nil {
                    // The worker finished the call but its answer is lost: fail the call, so that
                    // the caller learns why and the worker's credit returns.
                    let failure = CoreMessage.failure(
                        dispatchID: dispatchID, code: .handlerError, message: Self.overlongReplyMessage(frames: maxFrames))
                    core.handle(.message(from: peer, failure), now: now, into: &actions)
                }
            case .success(.replies(let dispatchIDs)):
                budget -= dispatchIDs.count - 1
                let handles = store.split(handle, into: dispatchIDs.indices.map { (4 + $0)..<(5 + $0) })
                for (dispatchID, payload) in zip(dispatchIDs, handles) {
                    guard core.isBatchDispatch(dispatchID) else {
                        core.handle(.message(from: peer, .reply(dispatchID: dispatchID, payload: payload)), now: now, into: &actions)
                        continue
                    }
                    let message = batchReply(dispatchID, payload)
                    store.release(payload)
                    core.handle(.message(from: peer, message), now: now, into: &actions)
                }
            case .success(.calls(let table)) where refusing:
                defer { store.release(handle) }  // after the table is read: releasing clears the buffer
                try table.forEach(in: buffer) { (call) throws(ZMQError) in
                    try sendError(socket, to: peer, call.id, .shuttingDown, Self.refusalWhileStopping)
                }
            case .success(.calls(let table)):
                budget -= table.count - 1
                replyBatcher.noteBatching(peer)
                let payloads = store.split(handle, into: (table.firstPayload..<(table.firstPayload + table.count)).map { $0..<($0 + 1) })
                core.arrivalNanoseconds = MonotonicClock.nowNanoseconds()
                var index = 0
                table.forEach(in: buffer) { call in
                    core.handle(
                        .message(
                            from: peer, .call(requestID: call.id, function: call.function, header: call.header, payload: payloads[index])),
                        now: now, into: &actions)
                    index += 1
                }
            case .success(.call(let requestID, _, _, _)) where refusing,
                .success(.scatter(let requestID, _, _, _, _)) where refusing,
                .success(.submit(let requestID, _, _, _, _, _)) where refusing:
                store.release(handle)
                // As an action, so that an MDP client's request is closed by the bridge without an answer
                // (MDP has no errors), not answered in ZGC01.
                try perform(.fail(client: peer, requestID: requestID, code: .shuttingDown, message: Self.refusalWhileStopping), socket)
            case .success(.submit(let requestID, _, _, _, _, _)) where jobStore == nil,
                .success(.job(let requestID, _, _, _)) where jobStore == nil,
                .success(.jobs(let requestID, _, _)) where jobStore == nil:
                store.release(handle)
                try sendError(socket, to: peer, requestID, .internal, "this broker has no job store: set [jobs] store in cluster.conf")
            case .success(.admin(let requestID, let verb, let argument)):
                store.release(handle)
                try answerAdmin(socket, peer, requestID, verb, argument, now: now)
            case .success(.call(let requestID, let function, let header, let payloadStart)):
                core.arrivalNanoseconds = MonotonicClock.nowNanoseconds()
                store.setPayloadStart(payloadStart, for: handle)
                core.handle(
                    .message(from: peer, .call(requestID: requestID, function: function, header: header, payload: handle)), now: now,
                    into: &actions)
            case .success(.cancel(let requestID)) where hub.close(from: peer, requestID: requestID):
                store.release(handle)
            case .success(.subscribe(let requestID, let json)):
                store.release(handle)
                guard let request = try? JSONDecoder().decode(SubscribeRequest.self, from: Data(json)) else {
                    try sendError(socket, to: peer, requestID, .malformed, "the subscription is not valid JSON for SubscribeRequest")
                    continue
                }
                hub.subscribe(from: peer, requestID: requestID, request, now: now, wallNow: core.wallNow)
                hubTickAt = min(hubTickAt, hub.nextWakeup(now: now))
            case .success(.eventAck(let requestID, let seq)):
                store.release(handle)
                hub.acknowledge(from: peer, requestID: requestID, seq: seq, now: now, wallNow: core.wallNow)
            case .success(.cancel(let requestID)):
                store.release(handle)
                core.handle(.message(from: peer, .cancel(requestID: requestID)), now: now, into: &actions)
            case .success(.jobs(let requestID, let verb, let filter)):
                store.release(handle)
                guard let query = try? JSONDecoder().decode(JobQuery.self, from: Data(filter)) else {
                    try sendError(socket, to: peer, requestID, .malformed, "the job filter is not valid JSON for JobQuery")
                    continue
                }
                core.handle(.message(from: peer, .jobs(requestID: requestID, verb: verb, query: query)), now: now, into: &actions)
            case .success(.ready(let concurrency, let functions, _, let resume)):
                // With CURVE on, the worker's public key (the ZAP handler's metadata), read only here:
                // the core honours a resume only from the key of the session it names.
                let key = security == nil ? nil : buffer.property(1, SecurityGate.keyProperty)
                store.release(handle)
                // An MDP worker may heartbeat only while it waits for work, as the guide's mdwrkapi does.
                let ready = CoreMessage.ready(
                    concurrency: concurrency, functions: functions, heartbeats: fromMajordomo ? .whileIdle : .always, resume: resume,
                    key: key)
                core.handle(.message(from: peer, ready), now: now, into: &actions)
            case .success(let inbound):
                guard let message = coreMessage(inbound, handle: handle, frames: buffer.count, fromMajordomo: fromMajordomo) else {
                    store.release(handle)
                    continue
                }
                if !message.carriesPayload { store.release(handle) }
                core.handle(.message(from: peer, message), now: now, into: &actions)
            }
        }
        return true
    }

    /// What the core takes for `inbound`, a message of `frames` frames held by `handle`; nil for one
    /// the loop answers itself. `fromMajordomo` tells an MDP peer's message (translated by the bridge).
    private func coreMessage(_ inbound: BrokerInbound, handle: PayloadHandle, frames: Int, fromMajordomo: Bool) -> CoreMessage? {
        switch inbound {
        case .scatter(let requestID, let function, let header, let spec, let payloadStart):
            store.setPayloadStart(payloadStart, for: handle)
            return .scatter(
                requestID: requestID, function: function, header: header, spec: spec, payload: handle, inputs: frames - payloadStart)
        case .call(let requestID, let function, let header, let payloadStart):
            store.setPayloadStart(payloadStart, for: handle)
            return .call(requestID: requestID, function: function, header: header, payload: handle)
        case .reply(let dispatchID, let payloadStart) where core.isBatchDispatch(dispatchID):
            store.setPayloadStart(payloadStart, for: handle)
            return batchReply(dispatchID, handle)
        case .reply(let dispatchID, let payloadStart):
            store.setPayloadStart(payloadStart, for: handle)
            return .reply(dispatchID: dispatchID, payload: handle)
        case .submit(let requestID, let function, let spec, let keys, let tags, let payloadStart):
            store.setPayloadStart(payloadStart, for: handle)
            let (buffer, range) = store.payload(handle)
            let bytes = range.count == 1 ? buffer.bytes(range.lowerBound) : range.flatMap { buffer.bytes($0) }
            return .submit(requestID: requestID, function: function, spec: spec, keys: keys, tags: tags, payload: bytes)
        case .job(let requestID, let verb, let jobID, let wait):
            return .job(requestID: requestID, verb: verb, jobID: jobID, waitMilliseconds: wait)
        case .jobs(let requestID, let verb, _):
            return .jobs(requestID: requestID, verb: verb, query: JobQuery())
        case .admin, .subscribe, .eventAck:
            return nil  // answered by the loop itself
        case .cancel(let requestID): return .cancel(requestID: requestID)
        case .clientHeartbeat: return .clientHeartbeat
        case .replies, .calls, .ready: return nil  // split or handled in receiveBurst
        case .failure(let dispatchID, let code, let message): return .failure(dispatchID: dispatchID, code: code, message: message)
        case .workerHeartbeat: return .workerHeartbeat
        case .progress(let dispatchID, let fraction, let message):
            return .progress(dispatchID: dispatchID, fraction: fraction, message: message)
        case .disconnect: return .disconnect
        }
    }

    /// The answer to a batch of job attempts: one result frame per job in `payload`, copied out
    /// here, since each job keeps its own result.
    private func batchReply(_ dispatchID: UInt64, _ payload: PayloadHandle) -> CoreMessage {
        let (buffer, range) = store.payload(payload)
        var results: [BatchResult] = []
        for index in range {
            guard let result = buffer.withBytes(index, { BatchResult(decoding: $0) }) else {
                return .failure(
                    dispatchID: dispatchID, code: .malformed, message: "batch result frame \(index - range.lowerBound) is malformed")
            }
            results.append(result)
        }
        return .batchReply(dispatchID: dispatchID, results: results)
    }

    /// Carries out and clears the pending actions.
    private mutating func perform(_ socket: borrowing Socket) throws(ZMQError) {
        if !core.completedCalls.isEmpty {
            // The calls answered in this pass end now: their answers leave together, below.
            observer.callsEnded(core.completedCalls, now: MonotonicClock.nowNanoseconds())
            core.clearCompletedCalls()
        }
        // Taken out of `self`, and each action moved out of the array rather than copied: reading
        // `pending[index]` copies the action whole through its value witness, retaining what it
        // holds, and the array then destroys the original. A moved-out slot holds a placeholder
        // with nothing to release until the array is cleared.
        var pending: [BrokerAction] = []
        swap(&pending, &actions)
        defer {
            // Kept for the next pass (with its capacity), unless something queued actions meanwhile.
            pending.removeAll(keepingCapacity: true)
            if actions.isEmpty { swap(&pending, &actions) }
        }
        try pending.withUnsafeMutableBufferPointer { (slots) throws(ZMQError) in
            for slot in slots.indices {
                let action = (slots.baseAddress! + slot).move()
                (slots.baseAddress! + slot).initialize(to: .release(Self.placeholderHandle))
                try perform(action, socket)
            }
        }
        if !requestBatcher.isEmpty { try requestBatcher.flush(socket, store: store) }
        if !replyBatcher.isEmpty { try replyBatcher.flush(socket, store: store) }
        if !partBatcher.isEmpty { try partBatcher.flush(socket, store: store) }
        majordomo.endPass()
        try performHub(socket)
        if !majordomo.probe.lost.isEmpty || !probe.lost.isEmpty {
            let now = MonotonicClock.nowMilliseconds()
            for worker in majordomo.takeLostWorkers() + probe.takeLost() {
                core.handle(.connectionClosed(from: worker), now: now, into: &actions)
            }
            try perform(socket)
        }
    }

    /// The message of SHUTTING_DOWN for new work while the broker stops or refuses new work.
    private static let refusalWhileStopping = "the broker is stopping"

    /// The error of a call whose worker's REPLY had more than `frames` frames, so was dropped.
    private static func overlongReplyMessage(frames: Int) -> String {
        "the worker's reply had more than \(frames) frames (max_frames, the routing identity included) and was dropped"
    }

    /// What a moved-out slot of the actions array holds until the array is cleared; never performed.
    private static let placeholderHandle: PayloadHandle = -1

    /// Carries out one action.
    private mutating func perform(_ action: consuming BrokerAction, _ socket: borrowing Socket) throws(ZMQError) {
        if !majordomo.isIdle, try majordomo.perform(action, core: core, store: store, socket: socket) {
            return
        }
        switch consume action {
        case .request(let worker, let dispatchID, let function, let header, let payload, let consume):
            let (buffer, range) = store.payload(payload)
            if range.count == 1 {
                requestBatcher.add(
                    worker: worker, dispatchID: dispatchID, function: function, header: header, payload: payload,
                    frame: range.lowerBound, consume: consume)
                return
            }
            try socket.sendProtocolMessage(
                to: worker, tag: ProtocolTag.worker, command: WorkerCommand.request.rawValue, id: dispatchID,
                function: function, header: header, payload: PayloadFrames(buffer, range, consume: consume))
            if consume { store.release(payload) }
        case .requestPart(let worker, let dispatchID, let function, let header, let payload, let frame):
            requestBatcher.add(
                worker: worker, dispatchID: dispatchID, function: function, header: header, payload: payload,
                frame: store.payload(payload).1.lowerBound + frame, consume: false)
        case .part(let client, let requestID, let index, let outcome):
            partBatcher.add(client: client, requestID: requestID, index: index, outcome: outcome)
        case .scatterDone(let client, let requestID, let summary):
            if !partBatcher.isEmpty { try partBatcher.flush(socket, store: store) }  // parts before DONE
            try socket.sendProtocolMessage(
                to: client, tag: ProtocolTag.client, command: ClientCommand.done.rawValue, id: requestID, extra: [summary.encoded])
        case .requestJob(let worker, let dispatchID, let function, let header, let payload):
            try socket.sendProtocolMessage(
                to: worker, tag: ProtocolTag.worker, command: WorkerCommand.request.rawValue, id: dispatchID,
                function: function, header: header, extra: [payload])
        case .requestBatch(let worker, let dispatchID, let function, let header, let items, let payloads):
            try socket.sendProtocolMessage(
                to: worker, tag: ProtocolTag.worker, command: WorkerCommand.request.rawValue, id: dispatchID,
                function: function, header: header, extra: [BatchItems.encode(items)] + payloads)
        case .storeWrite(let writes, let token):
            jobStore?.store.write(writes, token: token)
        case .storeRead(let query, let token):
            jobStore?.store.read(query, token: token)
        case .accepted(let client, let requestID, let jobID):
            try socket.sendProtocolMessage(
                to: client, tag: ProtocolTag.client, command: ClientCommand.accepted.rawValue, id: requestID, extra: [.bigEndian(jobID)]
            )
        case .jobReply(let client, let requestID, let answer):
            try sendJobReply(socket, client, requestID, answer)
        case .storeFinal(let record, let result, let token):
            jobStore?.store.write([.upsert(withResult(record, result))], token: token)
        case .jobFinished(let record, let result, let notify):
            let record = withResult(record, result)
            if let result { store.release(result) }
            hub.publish(Self.finalEvent(record, wallNow: core.wallNow))
            for request in notify {
                try sendJobReply(socket, request.client, request.requestID, JobAnswer(jobs: [record.info]))
            }
        case .reply(let client, let requestID, let payload):
            let (buffer, range) = store.payload(payload)
            if range.count == 1 {
                replyBatcher.add(client: client, requestID: requestID, payload: payload)
                return
            }
            try socket.sendProtocolMessage(
                to: client, tag: ProtocolTag.client, command: ClientCommand.reply.rawValue, id: requestID,
                payload: PayloadFrames(buffer, range, consume: true))
            store.release(payload)
        case .fail(let client, let requestID, let code, let message):
            if !partBatcher.isEmpty { try partBatcher.flush(socket, store: store) }  // parts before a scatter's ERROR
            try sendError(socket, to: client, requestID, code, message)
        case .refuse(let client, let requestID, let message, let retryAfter):
            try sendError(socket, to: client, requestID, .busy, message, retryAfter: retryAfter)
        case .cancel(let worker, let dispatchID):
            if !requestBatcher.isEmpty { try requestBatcher.flush(socket, store: store) }  // a request before its CANCEL
            try socket.sendProtocolMessage(to: worker, tag: ProtocolTag.worker, command: WorkerCommand.cancel.rawValue, id: dispatchID)
        case .heartbeatWorker(let worker):
            // The limits tell a worker how many results its REPLIES may carry, and how large a result
            // may be. Mandatory routing finds a worker whose process died before its expiry.
            // Frame 4 says this broker takes READYs that resume a session (see ``SessionResume``).
            try probe.heartbeat(
                worker, [ProtocolTag.worker, [WorkerCommand.heartbeat.rawValue], frameLimit, frameBytesLimit, WorkerHeartbeat.resumes],
                socket)
        case .heartbeatClient(let client):
            // The limits tell a client how many calls its CALLS may carry, how large a payload may
            // be, and how many calls and scatters it may keep in flight.
            try socket.sendProtocolMessage(
                to: client, tag: ProtocolTag.client, command: ClientCommand.heartbeat.rawValue,
                extra: [frameLimit, frameBytesLimit, inFlightLimit])
        case .acknowledgeDrain(let worker):
            if !requestBatcher.isEmpty { try requestBatcher.flush(socket, store: store) }  // its requests before it
            try socket.sendProtocolMessage(
                to: worker, tag: ProtocolTag.worker, command: WorkerCommand.heartbeat.rawValue,
                extra: [frameLimit, frameBytesLimit, WorkerHeartbeat.drainAcknowledged])
        case .disconnectWorker(let worker):
            if !requestBatcher.isEmpty { try requestBatcher.flush(socket, store: store) }
            try socket.sendProtocolMessage(to: worker, tag: ProtocolTag.worker, command: WorkerCommand.disconnect.rawValue)
        case .refuseWorker(let worker, let reason):
            try socket.sendProtocolMessage(
                to: worker, tag: ProtocolTag.worker, command: WorkerCommand.disconnect.rawValue, extra: [Array(reason.utf8)])
        case .release(let payload):
            store.release(payload)
        case .notice(let notice):
            if case .workerLeft(let worker, _, _) = notice { requestBatcher.forget(worker) }
            log(notice)
        case .publish(let event):
            hub.publish(event)
        }
    }

    /// Carries out what the event hub asks: store writes and reads, EVENT and ERROR messages.
    private mutating func performHub(_ socket: borrowing Socket) throws(ZMQError) {
        let actions = hub.takeActions()
        guard !actions.isEmpty else { return }
        // One event often goes to many subscriptions: encode each log event once per pass.
        let encoder = JSONEncoder()
        var encoded: [UInt64: [UInt8]] = [:]
        for action in actions {
            switch action {
            case .write(let writes, let token):
                jobStore?.store.write(writes, token: token)
            case .read(let query, let token):
                jobStore?.store.read(query, token: token)
            case .deliver(let client, let requestID, let events):
                let frames = events.compactMap { event -> [UInt8]? in
                    let inLog = ![.subscribed, .lagged, .gap].contains(event.kind)
                    if inLog, let bytes = encoded[event.seq] { return bytes }
                    guard let bytes = (try? encoder.encode(event)).map(Array.init) else { return nil }
                    if inLog { encoded[event.seq] = bytes }
                    return bytes
                }
                // A replay can hold thousands of events: a few per message, as clients take at most 256 frames.
                for start in stride(from: 0, to: frames.count, by: Self.eventsPerMessage) {
                    try socket.sendProtocolMessage(
                        to: client, tag: ProtocolTag.client, command: ClientCommand.event.rawValue, id: requestID,
                        extra: Array(frames[start..<min(start + Self.eventsPerMessage, frames.count)]))
                }
            case .fail(let client, let requestID, let code, let message):
                try sendError(socket, to: client, requestID, code, message)
            }
        }
    }

    /// `record` with the bytes of the `result` payload (kept in the payload store) as its result.
    private func withResult(_ record: JobRecord, _ result: PayloadHandle?) -> JobRecord {
        guard let result else { return record }
        var record = record
        let (buffer, range) = store.payload(result)
        record.result = range.count == 1 ? buffer.bytes(range.lowerBound) : range.flatMap { buffer.bytes($0) }
        return record
    }

    /// The event of a job reaching a final state, with its result.
    private static func finalEvent(_ record: JobRecord, wallNow: Int64) -> EventRecord {
        EventRecord(
            at: wallNow, kind: GridEventKind(rawValue: record.state.rawValue)?.rawValue ?? GridEventKind.failed.rawValue, job: record.id,
            function: record.function, tags: record.tags, worker: record.worker, attempt: record.attempts,
            error: record.state == .succeeded ? nil : record.lastError, result: record.result)
    }

    /// Sends ERROR to a client: a code, a message and, for admission control's BUSY, a retry-after time.
    private func sendError(
        _ socket: borrowing Socket, to client: PeerID, _ requestID: UInt64, _ code: ErrorCode, _ message: String,
        retryAfter: Int64? = nil
    ) throws(ZMQError) {
        var frames = [code.encoded, Array(message.utf8)]
        if let retryAfter { frames.append(.bigEndian(UInt32(clamping: retryAfter))) }
        try socket.sendProtocolMessage(
            to: client, tag: ProtocolTag.client, command: ClientCommand.error.rawValue, id: requestID, extra: frames)
    }

    /// The names of every counter of the status report and the metrics endpoint, in the order of
    /// ``counterValues``: the core's, the event hub's and security's refusals.
    private static let counterNames = BrokerStatistics.names + EventHub.counterNames + ["security_refusals"]

    /// Reads every counter into ``counterValues`` (kept, so that a publish allocates nothing).
    private mutating func readCounters() {
        counterValues.removeAll(keepingCapacity: true)
        core.statistics.appendValues(to: &counterValues)
        hub.appendCounters(to: &counterValues)
        counterValues.append(security?.refusals ?? 0)
    }

    /// Every counter of the status report and the metrics endpoint, by name.
    private mutating func counters() -> [String: Int] {
        readCounters()
        return Dictionary(zip(Self.counterNames, counterValues)) { $1 }
    }

    /// Answers an operator's ADMIN command (status or drain) at once, from the loop's own state.
    private mutating func answerAdmin(
        _ socket: borrowing Socket, _ peer: PeerID, _ requestID: UInt64, _ verb: AdminVerb, _ argument: [UInt8], now: Int64
    ) throws(ZMQError) {
        let json: [UInt8]
        switch verb {
        case .status:
            let report = StatusReport(
                uptimeMilliseconds: core.uptime(at: now), workers: core.workerSummaries(),
                functions: observer.functionReports(core.functionLoads()),
                jobs: core.jobCounts, queuedJobsByPriority: core.queuedJobsByPriority,
                counters: counters().merging(["subscriptions_open": hub.subscriptionCount]) { $1 })
            json = (try? JSONEncoder().encode(report)).map(Array.init) ?? []
        case .drain:
            let drained = core.drainWorker(named: String(decoding: argument, as: UTF8.self), now: now, into: &actions)
            json = Array("{\"drained\":\(drained)}".utf8)
            try perform(socket)
        }
        try socket.sendProtocolMessage(
            to: peer, tag: ProtocolTag.client, command: ClientCommand.adminReply.rawValue, id: requestID, extra: [json])
    }

    private func sendJobReply(_ socket: borrowing Socket, _ client: PeerID, _ requestID: UInt64, _ answer: JobAnswer) throws(ZMQError) {
        let json = (try? JSONEncoder().encode(answer)).map(Array.init) ?? Array("{\"jobs\":[]}".utf8)
        try socket.sendProtocolMessage(
            to: client, tag: ProtocolTag.client, command: ClientCommand.jobReply.rawValue, id: requestID, extra: [json])
    }

    private mutating func log(_ notice: BrokerNotice) {
        switch notice {
        case .workerJoined, .workerLeft, .sessionResumed, .scheduleChanged:
            logger.info("\(notice)")
        case .resumeRefused(let peer, let previous):
            if let line = security?.refuseResume(peer.description, previous: previous.description) { logger.warning("\(line)") }
        // A refused worker retries after a backoff of up to 5 s.
        case .jobDead, .workerRefused, .stalled, .scheduleSlotSkipped, .scheduleSlotsCoalesced:
            logger.warning("\(notice)")
        case .malformed, .protocolViolation:
            noticeCount += 1
            if noticeCount <= 20 || noticeCount % 1000 == 0 {
                logger.warning("\(notice) (\(noticeCount) dropped so far)")
            }
        }
    }
}

extension CoreMessage {
    /// Whether the message hands a payload to the core.
    var carriesPayload: Bool {
        switch self {
        case .call, .reply, .scatter: true
        default: false
        }
    }
}
