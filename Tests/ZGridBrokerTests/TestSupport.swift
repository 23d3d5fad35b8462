import Testing
import ZGridJobStore
import ZGridProtocol

@testable import ZGridBroker

/// A peer identity made from a readable name.
func peer(_ name: String) -> PeerID { PeerID(Array(name.utf8)) }

let client1 = peer("client-1")
let client2 = peer("client-2")
let worker1 = peer("worker-1")
let worker2 = peer("worker-2")
let worker3 = peer("worker-3")

/// Options for tests: short, round numbers; no grace unless a test asks for it.
func testOptions(
    interval: Int64 = 1000, liveness: Int64 = 3, timeout: Int64 = 30_000, grace: Int64 = 0,
    maxQueued: Int = 100, maxAttempts: Int = 2, forgivesOwnStalls: Bool = false
) -> BrokerOptions {
    var options = BrokerOptions(
        heartbeat: HeartbeatSettings(intervalMilliseconds: interval, liveness: liveness),
        defaultTimeoutMilliseconds: timeout, unknownFunctionGraceMilliseconds: grace,
        maxQueuedPerFunction: maxQueued, maxAttempts: maxAttempts)
    // Most tests jump the clock from tick to tick, which would look like stalls of the broker.
    options.forgivesOwnStalls = forgivesOwnStalls
    return options
}

/// A REQUEST the core sent to a worker.
struct SentRequest: Equatable {
    let worker: PeerID
    let dispatchID: UInt64
    let function: String
    let header: CallHeader
    let payload: PayloadHandle
    let consume: Bool
}

/// An ERROR the core sent to a client.
struct SentFailure: Equatable {
    let client: PeerID
    let requestID: UInt64
    let code: ErrorCode
}

/// A REPLY the core sent to a client.
struct SentReply: Equatable {
    let client: PeerID
    let requestID: UInt64
    let payload: PayloadHandle
}

extension [BrokerAction] {
    var requests: [SentRequest] {
        compactMap {
            guard case .request(let worker, let dispatchID, let function, let header, let payload, let consume) = $0 else { return nil }
            return SentRequest(
                worker: worker, dispatchID: dispatchID, function: function, header: header, payload: payload, consume: consume)
        }
    }
    var failures: [SentFailure] {
        compactMap {
            switch $0 {
            case .fail(let client, let requestID, let code, _): SentFailure(client: client, requestID: requestID, code: code)
            case .refuse(let client, let requestID, _, _): SentFailure(client: client, requestID: requestID, code: .busy)
            default: nil
            }
        }
    }
    var replies: [SentReply] {
        compactMap {
            guard case .reply(let client, let requestID, let payload) = $0 else { return nil }
            return SentReply(client: client, requestID: requestID, payload: payload)
        }
    }
    var releases: [PayloadHandle] {
        compactMap {
            guard case .release(let payload) = $0 else { return nil }
            return payload
        }
    }
    /// CANCEL messages to workers, as (worker, dispatch id).
    var cancels: [(worker: PeerID, dispatchID: UInt64)] {
        compactMap {
            guard case .cancel(let worker, let dispatchID) = $0 else { return nil }
            return (worker, dispatchID)
        }
    }
    var workerHeartbeats: [PeerID] {
        compactMap {
            guard case .heartbeatWorker(let worker) = $0 else { return nil }
            return worker
        }
    }
    var notices: [BrokerNotice] {
        compactMap {
            guard case .notice(let notice) = $0 else { return nil }
            return notice
        }
    }
    /// The workers named by `workerLeft` notices, with their reasons.
    var workersLeft: [(worker: PeerID, reason: String)] {
        notices.compactMap {
            guard case .workerLeft(let worker, let reason, _) = $0 else { return nil }
            return (worker, reason)
        }
    }
    var protocolViolations: [PeerID] {
        notices.compactMap {
            guard case .protocolViolation(let peer, _) = $0 else { return nil }
            return peer
        }
    }
}

/// Holds a core and the current time; feeds it events and returns what it asked for.
struct Driver {
    var core: BrokerCore
    /// Monotonic milliseconds, passed with every event.
    var now: Int64
    private var nextPayload: PayloadHandle = 1000

    init(options: BrokerOptions = testOptions(), now: Int64 = 0) {
        core = BrokerCore(options: options, now: now)
        self.now = now
    }

    /// A fresh payload handle, distinct from all earlier ones.
    mutating func payload() -> PayloadHandle {
        nextPayload += 1
        return nextPayload
    }

    /// Events the core published for the event log (kept apart from the returned actions).
    var published: [EventRecord] = []

    @discardableResult
    mutating func send(_ event: BrokerEvent) -> [BrokerAction] {
        var actions: [BrokerAction] = []
        core.handle(event, now: now, into: &actions)
        return actions.filter { action in
            guard case .publish(let record) = action else { return true }
            published.append(record)
            return false
        }
    }

    @discardableResult
    mutating func message(_ peer: PeerID, _ message: CoreMessage) -> [BrokerAction] {
        send(.message(from: peer, message))
    }

    /// A CALL from `client`; the payload handle is `payload` or a fresh one.
    @discardableResult
    mutating func call(
        _ client: PeerID, _ requestID: UInt64, _ function: String = "f", payload: PayloadHandle? = nil,
        idempotent: Bool = false, timeout: UInt32 = 0
    ) -> [BrokerAction] {
        var header = CallHeader(timeoutMilliseconds: timeout)
        header.isIdempotent = idempotent
        let handle = payload ?? self.payload()
        return message(client, .call(requestID: requestID, function: function, header: header, payload: handle))
    }

    /// READY from `worker` for `functions`; `heartbeats` as an MDP worker's READY gives it.
    @discardableResult
    mutating func ready(
        _ worker: PeerID, _ functions: [String] = ["f"], concurrency: Int = 1, heartbeats: WorkerHeartbeats = .always
    ) -> [BrokerAction] {
        message(
            worker,
            .ready(concurrency: concurrency, functions: functions.map { ServiceDescriptor(name: $0) }, heartbeats: heartbeats))
    }

    /// REPLY from `worker` with a fresh payload handle.
    @discardableResult
    mutating func reply(_ worker: PeerID, _ dispatchID: UInt64, payload: PayloadHandle? = nil) -> [BrokerAction] {
        let handle = payload ?? self.payload()
        return message(worker, .reply(dispatchID: dispatchID, payload: handle))
    }

    @discardableResult
    mutating func workerError(_ worker: PeerID, _ dispatchID: UInt64, _ code: ErrorCode = .handlerError) -> [BrokerAction] {
        message(worker, .failure(dispatchID: dispatchID, code: code, message: "boom"))
    }

    @discardableResult
    mutating func cancel(_ client: PeerID, _ requestID: UInt64) -> [BrokerAction] {
        message(client, .cancel(requestID: requestID))
    }

    @discardableResult
    mutating func heartbeat(worker: PeerID) -> [BrokerAction] { message(worker, .workerHeartbeat) }

    @discardableResult
    mutating func heartbeat(client: PeerID) -> [BrokerAction] { message(client, .clientHeartbeat) }

    @discardableResult
    mutating func disconnect(_ worker: PeerID) -> [BrokerAction] { message(worker, .disconnect) }

    /// Moves time forward without a tick.
    mutating func advance(by milliseconds: Int64) { now += milliseconds }

    /// A tick at the current time.
    @discardableResult
    mutating func tick() -> [BrokerAction] { send(.tick) }

    /// Moves time forward and ticks.
    @discardableResult
    mutating func tick(after milliseconds: Int64) -> [BrokerAction] {
        now += milliseconds
        return send(.tick)
    }

    /// Moves time to `time` and ticks.
    @discardableResult
    mutating func tick(at time: Int64) -> [BrokerAction] {
        now = time
        return send(.tick)
    }
}

/// Splits the requests of `actions` by worker, counting them.
func requestCounts(_ requests: [SentRequest]) -> [PeerID: Int] {
    requests.reduce(into: [:]) { $0[$1.worker, default: 0] += 1 }
}
