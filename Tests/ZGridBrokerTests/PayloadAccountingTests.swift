import Testing
import ZGridProtocol

@testable import ZGridBroker

/// Every payload handle given to the core must end in exactly one consuming action: a REQUEST
/// with `consume`, a REPLY or a release. Random traffic checks that, along with worker credit.
@Suite struct PayloadAccountingTests {
    static let seeds: [UInt64] = [1, 2, 3, 4, 5, 6]

    /// Runs `steps` random events from `seed`, then lets everything expire.
    static func simulate(seed: UInt64, steps: Int = 4000) -> Simulation {
        var simulation = Simulation(seed: seed, maxAttempts: seed.isMultiple(of: 3) ? 3 : 2)
        for step in 0..<steps { simulation.step(step) }
        simulation.drain()
        return simulation
    }

    @Test(arguments: seeds)
    func randomTrafficConsumesEveryPayloadExactlyOnce(seed: UInt64) {
        let simulation = Self.simulate(seed: seed)

        let problems = simulation.problems
        #expect(problems.isEmpty, "seed \(seed): \(problems.count) problems, first: \(problems.prefix(8))")
        #expect(simulation.driver.core.callsInFlight == 0)
        #expect(simulation.outstanding.isEmpty, "seed \(seed): calls never answered: \(simulation.outstanding.prefix(5))")
        let leaked = simulation.given.filter { simulation.consumed[$0] == nil }.sorted()
        #expect(leaked.count == 0, "seed \(seed): payloads never consumed, first: \(leaked.prefix(8))")
        let overused = simulation.consumed.filter { $0.value != 1 }.keys.sorted()
        #expect(overused.count == 0, "seed \(seed): payloads consumed more than once, first: \(overused.prefix(8))")

        let statistics = simulation.driver.core.statistics
        #expect(statistics.callsReceived == statistics.callsSucceeded + statistics.callsFailed + statistics.callsCancelled)
        #expect(statistics.malformedMessages == simulation.malformedSent)
    }

    /// The random traffic really takes the interesting paths (counted over all seeds, since the
    /// core's dictionary order, and so the exact trace, varies from run to run).
    @Test func randomTrafficTakesEveryPath() {
        var seen: [String: Int] = [:]
        for seed in Self.seeds { seen.merge(Self.simulate(seed: seed).seen, uniquingKeysWith: +) }
        for path in [
            "request", "shared request", "reply", "handler error", "timeout", "busy", "unknown function",
            "worker lost", "retry", "client expired", "cancel", "violation", "disconnect", "drained",
        ] {
            #expect(seen[path, default: 0] >= 5, "path '\(path)' taken \(seen[path, default: 0]) times")
        }
    }

    @Test func retriedCallThatExpiresInTheQueueReleasesItsPayloadOnce() throws {
        var driver = Driver(options: testOptions(interval: 100, liveness: 1, timeout: 60_000, grace: 60_000))
        driver.ready(worker1)
        let payload = driver.payload()
        let first = try #require(driver.call(client1, 1, payload: payload, idempotent: true, timeout: 450).requests.first)
        #expect(first.consume == false)
        var actions: [BrokerAction] = []
        for time in stride(from: Int64(100), through: 1000, by: 100) {
            driver.heartbeat(client: client1)
            actions += driver.tick(at: time)
        }
        // Lost at 200, queued for a retry, expired at 450 with no worker left to take it.
        #expect(actions.workersLeft.map(\.worker) == [worker1])
        #expect(actions.failures == [SentFailure(client: client1, requestID: 1, code: .unknownFunction)])
        #expect(actions.releases == [payload])
        #expect(driver.core.callsInFlight == 0)
    }
}

/// SplitMix64: a small seeded generator, so every run sees the same traffic.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Problems found by a ``Simulation``, collected instead of failing thousands of times.
final class ProblemLog {
    var problems: [String] = []
}

/// Random clients and workers talking to a core, with a model of what the core may do.
///
/// The traffic is fixed by the seed; the core's replies may still differ slightly between runs,
/// as it walks dictionaries (whose order varies per process) when ticks drop several peers.
/// Problems name the step they happened at.
struct Simulation {
    struct CallKey: Hashable, CustomStringConvertible {
        let client: PeerID
        let requestID: UInt64
        var description: String { "\(client)#\(requestID)" }
    }

    enum WorkerState { case offline, active, silent, draining }

    struct SimWorker {
        let id: PeerID
        var state = WorkerState.offline
        /// Dispatch ids it was sent and has not answered.
        var running: [UInt64] = []
    }

    /// A registered worker as the core should see it.
    struct Registration {
        let capacity: Int
        let functions: [String]
        var inFlight: Set<UInt64> = []
    }

    static let functions = ["a", "b", "c"]
    static let neverServed = "nobody"

    var driver: Driver
    var rng: SplitMix64
    let maxQueued = 4
    let maxAttempts: Int

    var given: Set<PayloadHandle> = []
    var consumed: [PayloadHandle: Int] = [:]
    var replyPayloads: Set<PayloadHandle> = []
    /// Calls sent and neither answered nor cancelled.
    var outstanding: Set<CallKey> = []
    var clients = [peer("c0"), peer("c1"), peer("c2")]
    /// Clients that send nothing for now.
    var quietClients: Set<PeerID> = []
    var nextRequestID: [PeerID: UInt64] = [:]
    var workers = (0..<4).map { SimWorker(id: peer("w\($0)")) }
    /// Calls held by worker incarnations the core has forgotten; they may still answer.
    var zombies: [(worker: PeerID, dispatchID: UInt64)] = []
    var registered: [PeerID: Registration] = [:]
    var malformedSent = 0
    private let log = ProblemLog()
    var problems: [String] { log.problems }
    var seen: [String: Int] = [:]
    private var stepNumber = 0

    init(seed: UInt64, maxAttempts: Int) {
        self.maxAttempts = maxAttempts
        rng = SplitMix64(seed: seed)
        driver = Driver(
            options: testOptions(interval: 100, liveness: 3, timeout: 1500, grace: 400, maxQueued: 4, maxAttempts: maxAttempts),
            now: 1_000_000)
    }

    func check(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { log.problems.append("step \(stepNumber): \(message())") }
    }

    mutating func newPayload() -> PayloadHandle {
        let handle = driver.payload()
        given.insert(handle)
        return handle
    }

    mutating func consume(_ handle: PayloadHandle, by what: String) {
        check(given.contains(handle), "\(what) of payload \(handle) never given")
        consumed[handle, default: 0] += 1
        check(consumed[handle] == 1, "payload \(handle) consumed \(consumed[handle]!) times (last by \(what))")
    }

    func index(of worker: PeerID) -> Int? { workers.firstIndex { $0.id == worker } }

    /// Forgets the worker's current incarnation; its running calls become zombies.
    mutating func retire(_ worker: PeerID) {
        guard let index = index(of: worker) else { return }
        zombies += workers[index].running.map { (worker, $0) }
        workers[index].running = []
        workers[index].state = .offline
    }

    // MARK: Actions

    mutating func apply(_ actions: [BrokerAction]) {
        for action in actions { apply(action) }
    }

    mutating func apply(_ action: BrokerAction) {
        switch action {
        case .request(let worker, let dispatchID, let function, let header, let payload, let consume):
            seen[consume ? "request" : "shared request", default: 0] += 1
            if header.attempt > 1 { seen["retry", default: 0] += 1 }
            check(given.contains(payload) && consumed[payload] == nil, "request with payload \(payload) already consumed or unknown")
            if consume { self.consume(payload, by: "request") }
            check((1...maxAttempts).contains(Int(header.attempt)), "attempt \(header.attempt)")
            check(header.timeoutMilliseconds >= 1, "request with no time left")
            guard var registration = registered[worker] else {
                check(false, "request to unregistered worker \(worker)")
                return
            }
            check(registration.functions.contains(function), "request for \(function) to \(worker), which does not serve it")
            check(!registration.inFlight.contains(dispatchID), "dispatch \(dispatchID) sent twice to \(worker)")
            registration.inFlight.insert(dispatchID)
            check(
                registration.inFlight.count <= registration.capacity,
                "\(worker) has \(registration.inFlight.count) in flight, concurrency \(registration.capacity)")
            registered[worker] = registration
            if let index = index(of: worker) {
                check(workers[index].state != .offline && workers[index].state != .draining, "request to \(workers[index].state) worker")
                workers[index].running.append(dispatchID)
            }
        case .storeRead(.expire, _):
            break  // the periodic result expiry touches no payload
        case .requestPart, .part, .scatterDone, .requestJob, .storeWrite, .storeRead, .accepted, .jobReply, .storeFinal, .jobFinished:
            check(false, "scatter or job action \(action) without any scatter or job")
        case .reply(let client, let requestID, let payload):
            seen["reply", default: 0] += 1
            consume(payload, by: "reply")
            check(replyPayloads.contains(payload), "reply carries payload \(payload), which no worker sent")
            check(outstanding.remove(CallKey(client: client, requestID: requestID)) != nil, "reply for \(client)#\(requestID), not waiting")
        case .fail(let client, let requestID, let code, _):
            seen[code.description, default: 0] += 1
            check(
                outstanding.remove(CallKey(client: client, requestID: requestID)) != nil, "\(code) for \(client)#\(requestID), not waiting")
            if code == .busy {
                check(driver.core.queuedCallCount >= maxQueued, "busy with only \(driver.core.queuedCallCount) calls queued")
            }
        case .release(let payload):
            consume(payload, by: "release")
        case .cancel(let worker, let dispatchID):
            seen["cancel", default: 0] += 1
            check(registered[worker]?.inFlight.contains(dispatchID) == true, "cancel of \(dispatchID) not running on \(worker)")
        case .heartbeatWorker(let worker):
            check(registered[worker] != nil, "heartbeat to unregistered worker \(worker)")
        case .acknowledgeDrain(let worker):
            check(registered[worker] != nil, "DISCONNECT of unregistered worker \(worker) acknowledged")
        case .heartbeatClient:
            break
        case .requestBatch:
            check(false, "a batch without batch-capable workers")
        case .publish(let event):
            seen["event " + event.kind, default: 0] += 1
        case .refuse(let client, let requestID, _, let retryAfter):
            seen["busy", default: 0] += 1
            check(retryAfter >= 50 && retryAfter <= 60_000, "retry-after \(retryAfter) ms")
            check(outstanding.remove(CallKey(client: client, requestID: requestID)) != nil, "busy for \(client)#\(requestID), not waiting")
            check(driver.core.queuedCallCount >= maxQueued, "busy with only \(driver.core.queuedCallCount) calls queued")
        case .disconnectWorker(let worker):
            seen["disconnect", default: 0] += 1
            check(registered[worker] == nil, "DISCONNECT sent to registered worker \(worker)")
            retire(worker)
        case .refuseWorker(let worker, _):
            check(false, "\(worker) refused, though no worker announces shards")
        case .notice(let notice):
            switch notice {
            case .workerJoined(let worker, let functions, let concurrency):
                check(registered[worker] == nil, "\(worker) joined twice")
                registered[worker] = Registration(capacity: concurrency, functions: functions)
            case .workerLeft(let worker, let reason, _):
                check(registered[worker] != nil, "unregistered \(worker) left")
                if reason == "disconnected" {
                    seen["drained", default: 0] += 1
                    check(registered[worker]?.inFlight.isEmpty == true, "\(worker) removed with calls in flight")
                }
                registered[worker] = nil
                retire(worker)
            case .protocolViolation:
                seen["violation", default: 0] += 1
            case .jobDead, .scheduleSlotSkipped, .scheduleSlotsCoalesced, .scheduleChanged:
                check(false, "a job notice without any job: \(notice)")
            case .workerRefused(let worker, _):
                check(false, "\(worker) refused, though no worker announces shards")
            case .malformed:
                break
            case .stalled:
                check(false, "a stall in a core with stall forgiveness off")
            case .sessionResumed, .resumeRefused:
                check(false, "a resumed session without any READY naming one")
            }
        }
    }

    // MARK: Traffic

    mutating func send(_ event: BrokerEvent) {
        apply(driver.send(event))
    }

    /// A worker answers one of its calls; the model frees the credit the way the core must.
    mutating func answer(from worker: PeerID, _ dispatchID: UInt64) {
        registered[worker]?.inFlight.remove(dispatchID)
        if Int.random(in: 0..<4, using: &rng) == 0 {
            send(.message(from: worker, .failure(dispatchID: dispatchID, code: .handlerError, message: "no")))
        } else {
            let payload = newPayload()
            replyPayloads.insert(payload)
            send(.message(from: worker, .reply(dispatchID: dispatchID, payload: payload)))
        }
    }

    mutating func step(_ number: Int) {
        stepNumber = number
        let roll = Int.random(in: 0..<100, using: &rng)
        switch roll {
        case 0..<24: call()
        case 24..<29: cancel()
        case 29..<49: workerAnswers()
        case 49..<52: zombieAnswers()
        case 52..<58: workerJoins()
        case 58..<60: workerDisconnects()
        case 60..<63: workerFallsSilent()
        case 63..<65: workerWakesUp()
        case 65..<67: strangerSpeaks()
        case 67..<69:
            // A client goes quiet (its calls expire once it has been silent long enough) or speaks again.
            let client = clients.randomElement(using: &rng)!
            if quietClients.remove(client) == nil { quietClients.insert(client) }
        case 69:
            malformedSent += 1
            send(.malformed(from: clients.randomElement(using: &rng)!, .badHeader))
        case 70..<79:
            for worker in workers where worker.state == .active || worker.state == .draining {
                send(.message(from: worker.id, .workerHeartbeat))
            }
        case 79..<86:
            guard let client = speakingClient() else { return }
            send(.message(from: client, .clientHeartbeat))
        default:
            driver.now += Int64.random(in: 0...120, using: &rng)
            send(.tick)
            check(driver.core.nextWakeup > driver.now, "next wakeup \(driver.core.nextWakeup) not after \(driver.now)")
        }
    }

    /// A random client that is not quiet, if any.
    mutating func speakingClient() -> PeerID? {
        clients.filter { !quietClients.contains($0) }.randomElement(using: &rng)
    }

    mutating func call() {
        guard let client = speakingClient() else { return }
        let mine = outstanding.filter { $0.client == client }.sorted { $0.requestID < $1.requestID }
        var header = CallHeader()
        header.isIdempotent = Bool.random(using: &rng)
        header.timeoutMilliseconds = Bool.random(using: &rng) ? 0 : UInt32.random(in: 50...2000, using: &rng)
        let function = Int.random(in: 0..<10, using: &rng) == 0 ? Self.neverServed : Self.functions.randomElement(using: &rng)!
        let payload = newPayload()
        if let duplicate = mine.randomElement(using: &rng), Int.random(in: 0..<20, using: &rng) == 0 {
            let actions = driver.send(
                .message(from: client, .call(requestID: duplicate.requestID, function: function, header: header, payload: payload)))
            check(
                actions.count == 2 && actions.first == .release(payload) && actions.protocolViolations == [client],
                "duplicate accepted: \(actions)")
            apply(actions)
            return
        }
        let requestID = nextRequestID[client, default: 1]
        nextRequestID[client] = requestID + 1
        outstanding.insert(CallKey(client: client, requestID: requestID))
        send(.message(from: client, .call(requestID: requestID, function: function, header: header, payload: payload)))
    }

    mutating func cancel() {
        guard let client = speakingClient() else { return }
        let mine = outstanding.filter { $0.client == client }.sorted { $0.requestID < $1.requestID }
        if let key = mine.randomElement(using: &rng), Int.random(in: 0..<5, using: &rng) > 0 {
            outstanding.remove(key)
            send(.message(from: client, .cancel(requestID: key.requestID)))
        } else {
            // An id never used: nothing to cancel.
            send(.message(from: client, .cancel(requestID: UInt64.random(in: 1_000_000...2_000_000, using: &rng))))
        }
    }

    mutating func workerAnswers() {
        let busy = workers.indices.filter {
            (workers[$0].state == .active || workers[$0].state == .draining) && !workers[$0].running.isEmpty
        }
        guard let index = busy.randomElement(using: &rng) else { return }
        let dispatchID = workers[index].running.remove(at: Int.random(in: 0..<workers[index].running.count, using: &rng))
        answer(from: workers[index].id, dispatchID)
    }

    mutating func zombieAnswers() {
        guard !zombies.isEmpty else { return }
        let zombie = zombies.remove(at: Int.random(in: 0..<zombies.count, using: &rng))
        answer(from: zombie.worker, zombie.dispatchID)
    }

    mutating func workerJoins() {
        if Int.random(in: 0..<10, using: &rng) == 0, let worker = workers.filter({ $0.state == .active }).randomElement(using: &rng) {
            let actions = driver.send(.message(from: worker.id, .ready(concurrency: 2, functions: ["a"])))
            check(actions.protocolViolations == [worker.id] && actions.count == 1, "second READY accepted: \(actions)")
            apply(actions)
            return
        }
        guard let index = workers.indices.filter({ workers[$0].state == .offline }).randomElement(using: &rng) else { return }
        workers[index].state = .active
        let functions = Self.functions.filter { _ in Bool.random(using: &rng) }
        send(
            .message(
                from: workers[index].id,
                .ready(
                    concurrency: Int.random(in: 1...3, using: &rng),
                    functions: (functions.isEmpty ? ["a"] : functions).map { ServiceDescriptor(name: $0) })))
    }

    mutating func workerDisconnects() {
        guard let index = workers.indices.filter({ workers[$0].state == .active }).randomElement(using: &rng) else { return }
        workers[index].state = .draining
        send(.message(from: workers[index].id, .disconnect))
    }

    mutating func workerFallsSilent() {
        guard let index = workers.indices.filter({ workers[$0].state == .active }).randomElement(using: &rng) else { return }
        workers[index].state = .silent
    }

    mutating func workerWakesUp() {
        guard let index = workers.indices.filter({ workers[$0].state == .silent }).randomElement(using: &rng) else { return }
        workers[index].state = .active
        send(.message(from: workers[index].id, .workerHeartbeat))
    }

    /// A worker the core does not know speaks: a stray reply or heartbeat.
    mutating func strangerSpeaks() {
        let worker = workers.randomElement(using: &rng)!
        if Bool.random(using: &rng) {
            let payload = newPayload()
            let actions = driver.send(.message(from: worker.id, .reply(dispatchID: 1_000_000 + UInt64(stepNumber), payload: payload)))
            check(actions.releases == [payload] && actions.replies.isEmpty, "stray reply not released: \(actions)")
            apply(actions)
        } else if worker.state == .offline {
            let actions = driver.send(.message(from: worker.id, .workerHeartbeat))
            check(actions == [.disconnectWorker(worker.id)], "heartbeat from unknown worker: \(actions)")
            apply(actions)
        }
    }

    /// Lets time pass far beyond every deadline and expiry, with no more traffic.
    mutating func drain() {
        stepNumber = -1
        for _ in 0..<100 {
            driver.now += 100
            send(.tick)
        }
    }
}
