import DequeModule
import HeapModule
import ZGridProtocol

/// The broker's routing logic as a pure state machine: events in, actions out, no I/O.
///
/// It tracks workers and their credit (the concurrency each announced), queues calls no worker can
/// take yet, expires deadlines, exchanges heartbeats and drops silent peers. The poll loop in
/// ``BrokerServer`` decodes messages, feeds them to ``handle(_:now:into:)`` and carries out the
/// returned actions. Time is passed in (`now`, monotonic milliseconds), so tests drive it directly.
public struct BrokerCore {
    /// The options in force.
    public let options: BrokerOptions
    /// Counters since start.
    public private(set) var statistics = BrokerStatistics()

    private let startedAt: Int64
    private var workers: [PeerID: WorkerRecord] = [:]
    private var services: [String: ServiceRecord] = [:]
    private var calls: [UInt64: CallRecord] = [:]
    private var callsByClientKey: [ClientCallKey: UInt64] = [:]
    private var clients: [PeerID: ClientRecord] = [:]
    private var deadlines = Heap<DeadlineEntry>()
    private var nextDispatchID: UInt64 = 1
    private var nextSequence: UInt64 = 1
    private var nextHeartbeatAt: Int64

    /// Creates a core that starts at `now`.
    public init(options: BrokerOptions = .init(), now: Int64) {
        self.options = options
        startedAt = now
        nextHeartbeatAt = now + options.heartbeat.intervalMilliseconds
    }

    // MARK: Inspection

    /// How many workers are registered (draining ones included).
    public var workerCount: Int { workers.count }
    /// How many calls are queued or running.
    public var callsInFlight: Int { calls.count }
    /// How many calls wait in queues.
    public var queuedCallCount: Int { calls.values.count(where: { $0.worker == nil }) }
    /// The functions served by at least one worker, with their worker count.
    public var servedFunctions: [String: Int] { services.compactMapValues { $0.workers.isEmpty ? nil : $0.workers.count } }
    /// Calls running on `worker`, or nil when the worker is unknown.
    public func inFlightCount(of worker: PeerID) -> Int? { workers[worker]?.inFlight.count }

    /// When the core next wants a ``BrokerEvent/tick``, in monotonic milliseconds.
    public var nextWakeup: Int64 {
        if let first = deadlines.min { return min(first.deadline, nextHeartbeatAt) }
        return nextHeartbeatAt
    }

    // MARK: Events

    /// Handles one event at time `now`, appending the resulting actions to `actions`.
    public mutating func handle(_ event: BrokerEvent, now: Int64, into actions: inout [BrokerAction]) {
        switch event {
        case .message(let peer, let message):
            handle(message, from: peer, now: now, into: &actions)
        case .malformed(let peer, let reason):
            statistics.malformedMessages += 1
            actions.append(.notice(.malformed(peer, reason)))
        case .tick:
            tick(now: now, into: &actions)
        }
    }

    private mutating func handle(_ message: CoreMessage, from peer: PeerID, now: Int64, into actions: inout [BrokerAction]) {
        switch message {
        case .call(let requestID, let function, let header, let payload):
            touchClient(peer, now: now)
            acceptCall(from: peer, requestID: requestID, function: function, header: header, payload: payload, now: now, into: &actions)
        case .cancel(let requestID):
            touchClient(peer, now: now)
            cancelCall(from: peer, requestID: requestID, into: &actions)
        case .clientHeartbeat:
            touchClient(peer, now: now)
            actions.append(.heartbeatClient(peer))
        case .ready(let concurrency, let functions):
            registerWorker(peer, concurrency: concurrency, functions: functions, now: now, into: &actions)
        case .reply(let dispatchID, let payload):
            guard touchWorker(peer, now: now, into: &actions) else {
                actions.append(.release(payload))
                return
            }
            completeCall(dispatchID, on: peer, now: now, into: &actions) { call in
                .reply(client: call.client, requestID: call.requestID, payload: payload)
            } orphaned: {
                .release(payload)
            }
        case .failure(let dispatchID, let code, let text):
            guard touchWorker(peer, now: now, into: &actions) else { return }
            completeCall(dispatchID, on: peer, now: now, into: &actions) { call in
                .fail(client: call.client, requestID: call.requestID, code: code, message: text)
            } orphaned: {
                nil
            }
        case .workerHeartbeat:
            _ = touchWorker(peer, now: now, into: &actions)
        case .disconnect:
            guard workers[peer] != nil else { return }
            startDraining(peer, now: now, into: &actions)
        }
    }

    // MARK: Calls

    private mutating func acceptCall(
        from client: PeerID, requestID: UInt64, function: String, header: CallHeader, payload: PayloadHandle,
        now: Int64, into actions: inout [BrokerAction]
    ) {
        let key = ClientCallKey(client: client, requestID: requestID)
        guard callsByClientKey[key] == nil else {
            statistics.protocolViolations += 1
            actions.append(.release(payload))
            actions.append(.notice(.protocolViolation(client, "request id \(requestID) already in flight")))
            return
        }
        statistics.callsReceived += 1
        var service = services[function] ?? ServiceRecord(noWorkersSince: startedAt)
        if service.workers.isEmpty, let since = service.noWorkersSince,
            now - since >= options.unknownFunctionGraceMilliseconds
        {
            services[function] = service
            fail(client, requestID, .unknownFunction, "no worker serves function '\(function)'", payload: payload, into: &actions)
            return
        }
        if service.workers.isEmpty || !service.queue.isEmpty || bestWorker(in: service) == nil,
            service.waitingCount >= options.maxQueuedPerFunction
        {
            services[function] = service
            fail(client, requestID, .busy, "queue for '\(function)' is full (\(service.waitingCount) calls)", payload: payload, into: &actions)
            return
        }
        let timeout = header.timeoutMilliseconds == 0 ? options.defaultTimeoutMilliseconds : Int64(header.timeoutMilliseconds)
        let dispatchID = nextDispatchID
        nextDispatchID += 1
        var stamped = header
        stamped.attempt = 1
        calls[dispatchID] = CallRecord(
            client: client, requestID: requestID, function: function, header: stamped, payload: payload,
            deadline: now + timeout, worker: nil, sequence: nextSequence)
        nextSequence += 1
        callsByClientKey[key] = dispatchID
        clients[client, default: ClientRecord(lastSeen: now)].calls.insert(dispatchID)
        deadlines.insert(DeadlineEntry(deadline: now + timeout, dispatchID: dispatchID))
        if service.queue.isEmpty, let worker = bestWorker(in: service) {
            services[function] = service
            dispatch(dispatchID, to: worker, now: now, into: &actions)
        } else {
            service.queue.append(dispatchID)
            services[function] = service
        }
    }

    private mutating func cancelCall(from client: PeerID, requestID: UInt64, into actions: inout [BrokerAction]) {
        guard let dispatchID = callsByClientKey[ClientCallKey(client: client, requestID: requestID)],
            let call = calls[dispatchID]
        else { return }
        statistics.callsCancelled += 1
        if let worker = call.worker { actions.append(.cancel(worker: worker, dispatchID: dispatchID)) }
        forget(dispatchID, into: &actions)
    }

    /// Removes a call's record, releasing any payload it held. A running call's id stays in its
    /// worker's in-flight set until the worker answers, so its credit stays used.
    private mutating func forget(_ dispatchID: UInt64, into actions: inout [BrokerAction]) {
        guard let call = calls.removeValue(forKey: dispatchID) else { return }
        if let payload = call.payload { actions.append(.release(payload)) }
        callsByClientKey[ClientCallKey(client: call.client, requestID: call.requestID)] = nil
        clients[call.client]?.calls.remove(dispatchID)
        if call.worker == nil { queueEntryWentStale(call.function) }
    }

    /// Counts the queue entry of a forgotten queued call as stale, so it no longer counts against
    /// `maxQueuedPerFunction`; compacts the queue once stale entries are the majority.
    private mutating func queueEntryWentStale(_ function: String) {
        guard services[function] != nil else { return }
        services[function]!.staleEntries += 1
        guard services[function]!.staleEntries * 2 > services[function]!.queue.count else { return }
        let calls = self.calls
        services[function]!.queue.removeAll { calls[$0]?.worker != nil || calls[$0] == nil }
        services[function]!.staleEntries = 0
    }

    private mutating func fail(
        _ client: PeerID, _ requestID: UInt64, _ code: ErrorCode, _ text: String, payload: PayloadHandle?,
        into actions: inout [BrokerAction]
    ) {
        statistics.callsFailed += 1
        if let payload { actions.append(.release(payload)) }
        actions.append(.fail(client: client, requestID: requestID, code: code, message: text))
    }

    private mutating func failCall(_ dispatchID: UInt64, _ code: ErrorCode, _ text: String, into actions: inout [BrokerAction]) {
        guard let call = calls[dispatchID] else { return }
        forget(dispatchID, into: &actions)
        fail(call.client, call.requestID, code, text, payload: nil, into: &actions)
    }

    /// A worker answered `dispatchID`: free its credit, answer the client, and give the worker more work.
    private mutating func completeCall(
        _ dispatchID: UInt64, on peer: PeerID, now: Int64, into actions: inout [BrokerAction],
        answer: (CallRecord) -> BrokerAction, orphaned: () -> BrokerAction?
    ) {
        guard workers[peer]?.inFlight.remove(dispatchID) != nil else {
            statistics.protocolViolations += 1
            if let action = orphaned() { actions.append(action) }
            actions.append(.notice(.protocolViolation(peer, "answer for request \(dispatchID) it was not running")))
            return
        }
        if let call = calls[dispatchID], call.worker == peer {
            forget(dispatchID, into: &actions)
            let action = answer(call)
            if case .reply = action { statistics.callsSucceeded += 1 } else { statistics.callsFailed += 1 }
            actions.append(action)
        } else if let action = orphaned() {
            actions.append(action)
        }
        creditReturned(peer, now: now, into: &actions)
    }

    /// Sends queued calls to `peer` while it has credit, oldest first across its functions.
    private mutating func creditReturned(_ peer: PeerID, now: Int64, into actions: inout [BrokerAction]) {
        guard let worker = workers[peer] else { return }
        if worker.draining {
            if worker.inFlight.isEmpty {
                workers[peer] = nil
                actions.append(.notice(.workerLeft(peer, reason: "disconnected", inFlight: 0)))
            }
            return
        }
        while workers[peer]?.hasCredit == true {
            guard let (function, dispatchID) = oldestQueuedCall(for: worker.functions) else { return }
            services[function]?.queue.removeFirst()
            dispatch(dispatchID, to: peer, now: now, into: &actions)
        }
    }

    /// The oldest live queued call among `functions`, skipping (and dropping) finished entries.
    private mutating func oldestQueuedCall(for functions: [String]) -> (String, UInt64)? {
        var best: (String, UInt64, UInt64)?
        for function in functions {
            while let head = services[function]?.queue.first {
                if let call = calls[head], call.worker == nil {
                    if best == nil || call.sequence < best!.2 { best = (function, head, call.sequence) }
                    break
                }
                services[function]?.queue.removeFirst()
                services[function]?.staleEntries -= 1
            }
        }
        return best.map { ($0.0, $0.1) }
    }

    private mutating func dispatch(_ dispatchID: UInt64, to peer: PeerID, now: Int64, into actions: inout [BrokerAction]) {
        guard var call = calls[dispatchID], let payload = call.payload else { return }
        let keepPayload = call.header.isIdempotent && Int(call.header.attempt) < options.maxAttempts
        call.worker = peer
        call.payload = keepPayload ? payload : nil
        var header = call.header
        header.timeoutMilliseconds = UInt32(clamping: max(1, call.deadline - now))
        calls[dispatchID] = call
        workers[peer]!.inFlight.insert(dispatchID)
        workers[peer]!.lastDispatchSequence = nextSequence
        nextSequence += 1
        actions.append(
            .request(worker: peer, dispatchID: dispatchID, function: call.function, header: header, payload: payload, consume: !keepPayload))
    }

    /// The least loaded worker of `service` with credit; ties go to the one idle longest.
    private func bestWorker(in service: ServiceRecord) -> PeerID? {
        var best: (PeerID, WorkerRecord)?
        for peer in service.workers {
            guard let candidate = workers[peer], candidate.hasCredit else { continue }
            guard let (_, current) = best else {
                best = (peer, candidate)
                continue
            }
            let lhs = candidate.inFlight.count * current.capacity
            let rhs = current.inFlight.count * candidate.capacity
            if lhs < rhs || (lhs == rhs && candidate.lastDispatchSequence < current.lastDispatchSequence) {
                best = (peer, candidate)
            }
        }
        return best?.0
    }

    // MARK: Workers

    private mutating func registerWorker(
        _ peer: PeerID, concurrency: Int, functions: [String], now: Int64, into actions: inout [BrokerAction]
    ) {
        guard workers[peer] == nil else {
            statistics.protocolViolations += 1
            actions.append(.notice(.protocolViolation(peer, "READY from a worker already registered")))
            return
        }
        var unique: [String] = []
        for function in functions where !unique.contains(function) { unique.append(function) }
        workers[peer] = WorkerRecord(functions: unique, capacity: concurrency, lastSeen: now)
        for function in unique {
            services[function, default: ServiceRecord()].workers.append(peer)
            services[function]!.noWorkersSince = nil
        }
        actions.append(.notice(.workerJoined(peer, functions: unique, concurrency: concurrency)))
        actions.append(.heartbeatWorker(peer))
        creditReturned(peer, now: now, into: &actions)
    }

    /// Records that a worker spoke; an unknown worker is told to register again.
    private mutating func touchWorker(_ peer: PeerID, now: Int64, into actions: inout [BrokerAction]) -> Bool {
        guard workers[peer] != nil else {
            statistics.protocolViolations += 1
            actions.append(.disconnectWorker(peer))
            return false
        }
        workers[peer]!.lastSeen = now
        return true
    }

    private mutating func startDraining(_ peer: PeerID, now: Int64, into actions: inout [BrokerAction]) {
        workers[peer]!.draining = true
        workers[peer]!.lastSeen = now
        detachFromServices(peer, now: now)
        creditReturned(peer, now: now, into: &actions)
    }

    private mutating func detachFromServices(_ peer: PeerID, now: Int64) {
        guard let worker = workers[peer] else { return }
        for function in worker.functions {
            services[function]?.workers.removeAll { $0 == peer }
            if services[function]?.workers.isEmpty == true { services[function]?.noWorkersSince = now }
        }
    }

    /// Drops a silent worker: its calls are retried elsewhere when idempotent, failed otherwise.
    private mutating func loseWorker(_ peer: PeerID, now: Int64, into actions: inout [BrokerAction]) {
        guard let worker = workers[peer] else { return }
        detachFromServices(peer, now: now)
        workers[peer] = nil
        statistics.workersLost += 1
        actions.append(.notice(.workerLeft(peer, reason: "silent for \(options.heartbeat.expiryMilliseconds) ms", inFlight: worker.inFlight.count)))
        var retried: [String: [UInt64]] = [:]
        for dispatchID in worker.inFlight.sorted() {
            guard var call = calls[dispatchID] else { continue }
            if call.payload != nil, Int(call.header.attempt) < options.maxAttempts, call.deadline > now {
                call.worker = nil
                call.header.attempt += 1
                calls[dispatchID] = call
                statistics.callsRetried += 1
                retried[call.function, default: []].append(dispatchID)
            } else {
                failCall(dispatchID, .workerLost, "worker \(peer) was lost while running '\(call.function)'", into: &actions)
            }
        }
        for (function, ids) in retried {
            for id in ids.reversed() { services[function, default: ServiceRecord(noWorkersSince: now)].queue.prepend(id) }
            var idle: [PeerID] = []
            for candidate in services[function]?.workers ?? [] where workers[candidate]?.hasCredit == true {
                idle.append(candidate)
            }
            for candidate in idle { creditReturned(candidate, now: now, into: &actions) }
        }
    }

    // MARK: Clients

    private mutating func touchClient(_ peer: PeerID, now: Int64) {
        clients[peer, default: ClientRecord(lastSeen: now)].lastSeen = now
    }

    /// Forgets a silent client and every call it had queued or running. Each call is answered
    /// ERROR client-expired, so a client that was only slow learns its calls are gone.
    private mutating func loseClient(_ peer: PeerID, into actions: inout [BrokerAction]) {
        guard let client = clients.removeValue(forKey: peer) else { return }
        for dispatchID in client.calls.sorted() {
            if let worker = calls[dispatchID]?.worker { actions.append(.cancel(worker: worker, dispatchID: dispatchID)) }
            failCall(
                dispatchID, .clientExpired, "no heartbeat from this client for \(2 * options.heartbeat.expiryMilliseconds) ms; call dropped",
                into: &actions)
        }
    }

    // MARK: Time

    private mutating func tick(now: Int64, into actions: inout [BrokerAction]) {
        expireDeadlines(now: now, into: &actions)
        guard now >= nextHeartbeatAt else { return }
        nextHeartbeatAt = now + options.heartbeat.intervalMilliseconds
        let expiry = options.heartbeat.expiryMilliseconds
        for (peer, worker) in workers where now - worker.lastSeen > expiry {
            loseWorker(peer, now: now, into: &actions)
        }
        for peer in workers.keys { actions.append(.heartbeatWorker(peer)) }
        // Clients get twice the workers' allowance: dropping a live client's calls costs more.
        for (peer, client) in clients where now - client.lastSeen > 2 * expiry {
            loseClient(peer, into: &actions)
        }
        failCallsWithoutWorkers(now: now, into: &actions)
    }

    private mutating func expireDeadlines(now: Int64, into actions: inout [BrokerAction]) {
        while let first = deadlines.min, first.deadline <= now {
            deadlines.removeMin()
            guard let call = calls[first.dispatchID], call.deadline == first.deadline else { continue }
            if let worker = call.worker { actions.append(.cancel(worker: worker, dispatchID: first.dispatchID)) }
            failCall(first.dispatchID, .timeout, "'\(call.function)' did not finish within its time limit", into: &actions)
        }
    }

    private mutating func failCallsWithoutWorkers(now: Int64, into actions: inout [BrokerAction]) {
        for (function, service) in services where service.workers.isEmpty && !service.queue.isEmpty {
            guard let since = service.noWorkersSince, now - since >= options.unknownFunctionGraceMilliseconds else { continue }
            services[function]!.queue.removeAll()
            services[function]!.staleEntries = 0
            for dispatchID in service.queue where calls[dispatchID]?.worker == nil {
                failCall(dispatchID, .unknownFunction, "no worker serves function '\(function)'", into: &actions)
            }
        }
    }
}
