import ZGridProtocol
import ZeroMQ

/// Lets MDP/0.1 clients and workers (ZeroMQ RFC 7) and MMI lookups (RFC 8) use the broker, with
/// no MDP in ``BrokerCore``: the loop hands MDP messages to ``inbound(_:from:core:socket:)``,
/// which turns them into the ZGP shapes the core takes, and lets ``perform(_:core:store:socket:)``
/// carry out actions that target MDP peers, in MDP form.
///
/// - An MDP client REQUEST becomes a CALL with a request id chosen here and a default header; its
///   REPLY goes back as MDP REPLY. MDP has no error reply: a failed call is not answered (the client
///   times out and retries, as RFC 7 recommends).
/// - An MDP worker is a ZGP worker of concurrency 1 serving its one service. REQUEST carries the
///   dispatch id as the client address, so REPLY names the dispatch id. The loop registers it as
///   heartbeating only while idle (``WorkerHeartbeats/whileIdle``): RFC 7 workers written like the
///   guide's mdwrkapi are silent while they run a request.
///   Its silence while busy says nothing, but the broker's HEARTBEATs to it go out with mandatory
///   routing: once its connection is gone (its process died), the worker is handed to the core as
///   lost (``takeLostWorkers()``), busy or not.
/// - `mmi.` services are answered here.
///
/// State is bounded by the open MDP requests and the MDP workers the core knows.
struct MajordomoBridge {
    /// An open MDP client request, by the request id the core knows it under.
    private struct OpenRequest {
        let client: PeerID
        let service: String
    }

    /// MDP workers, and whether each sent DISCONNECT (it then gets no further commands).
    private var workers: [PeerID: Bool] = [:]
    /// MDP clients, with how many requests each has open.
    private var clients: [PeerID: Int] = [:]
    private var requests: [UInt64: OpenRequest] = [:]
    /// Request ids for MDP calls come from the top half, away from ids ZGP clients pick.
    private var nextRequestID: UInt64 = 1 << 63
    private var nextKeepAlive: Int64 = 0

    /// MDP workers forgotten in the loop's current pass: the core may still answer more of their
    /// messages of the same pass (each with DISCONNECT), which must go out in MDP form too.
    private var forgottenThisPass: Set<PeerID> = []
    /// Sends HEARTBEATs with mandatory routing and keeps the MDP workers whose connection was
    /// found gone, not yet told to the core.
    private(set) var probe = WorkerProbe()

    /// Whether no MDP peer is known, so no action can concern the bridge.
    var isIdle: Bool { workers.isEmpty && clients.isEmpty && forgottenThisPass.isEmpty }

    /// Ends a pass of the loop: the workers forgotten in it are no longer told apart.
    mutating func endPass() {
        if !forgottenThisPass.isEmpty { forgottenThisPass.removeAll() }
    }

    /// Translates an MDP message into what the loop feeds the core as if decoded from ZGP, or
    /// returns nil when the bridge answered it itself (MMI, or DISCONNECT to a worker's bad READY).
    mutating func inbound(
        _ message: Multipart, from peer: PeerID, core: BrokerCore, socket: borrowing Socket
    ) throws(ZMQError) -> Result<BrokerInbound, MalformedReason>? {
        switch MajordomoInbound.decode(message) {
        case .failure(let reason):
            return .failure(reason)
        case .success(.request(let service, let bodyStart)):
            if service.hasPrefix(Majordomo.managementPrefix) {
                try answerManagement(service, message, bodyStart: bodyStart, to: peer, core: core, socket: socket)
                return nil
            }
            let requestID = nextRequestID
            nextRequestID &+= 1
            requests[requestID] = OpenRequest(client: peer, service: service)
            clients[peer, default: 0] += 1
            return .success(.call(requestID: requestID, function: service, header: CallHeader(), payloadStart: bodyStart))
        case .success(.ready(let service)):
            let registered = core.inFlightCount(of: peer) != nil
            guard !registered, !service.hasPrefix(Majordomo.managementPrefix) else {
                // RFC 7: DISCONNECT for an unexpected command (a second READY); RFC 8: for `mmi.`.
                try socket.sendMajordomo(to: peer, MajordomoCommand.disconnect.frames())
                guard registered else { return nil }
                workers[peer] = true
                return .success(.disconnect)
            }
            workers[peer] = false
            return .success(.ready(concurrency: 1, functions: [ServiceDescriptor(name: service)], capabilities: []))
        case .success(.reply(let dispatchID, let bodyStart)):
            if workers[peer] == nil { workers[peer] = false }  // so the core's DISCONNECT goes out in MDP
            return .success(.reply(dispatchID: dispatchID, payloadStart: bodyStart))
        case .success(.heartbeat):
            if workers[peer] == nil { workers[peer] = false }
            return .success(.workerHeartbeat)
        case .success(.disconnect):
            if workers[peer] != nil { workers[peer] = true }
            return .success(.disconnect)
        }
    }

    /// Answers an MMI request: `mmi.service` with 200 or 404, any other `mmi.` service with 501.
    private func answerManagement(
        _ service: String, _ message: Multipart, bodyStart: Int, to peer: PeerID, core: BrokerCore, socket: borrowing Socket
    ) throws(ZMQError) {
        var answer = Majordomo.notImplemented
        if service == Majordomo.serviceLookup {
            let name = bodyStart < message.count ? message.withBytes(bodyStart) { String(decoding: $0, as: UTF8.self) } : ""
            answer = core.isServed(name) ? Majordomo.found : Majordomo.notFound
        }
        try socket.sendMajordomo(to: peer, [Majordomo.clientTag, Array(service.utf8), Array(answer.utf8)])
    }

    /// Carries out `action` if it targets an MDP peer and returns true; returns false for the loop
    /// to carry it out (it also sees the notices the bridge learns from).
    mutating func perform(
        _ action: BrokerAction, core: BrokerCore, store: PayloadStore, socket: borrowing Socket
    ) throws(ZMQError) -> Bool {
        switch action {
        case .reply(let client, let requestID, let payload):
            guard let request = close(requestID, of: client) else { return false }
            let (buffer, range) = store.payload(payload)
            try socket.sendMajordomo(
                to: client, [Majordomo.clientTag, Array(request.service.utf8)], body: PayloadFrames(buffer, range, consume: true))
            store.release(payload)
        case .fail(let client, let requestID, _, _), .refuse(let client, let requestID, _, _):
            guard close(requestID, of: client) != nil else { return false }
        case .heartbeatClient(let client):
            return clients[client] != nil
        case .request(let worker, let dispatchID, _, _, let payload, let consume):
            guard let disconnected = workers[worker] else { return false }
            if !disconnected {
                let (buffer, range) = store.payload(payload)
                try sendRequest(to: worker, dispatchID, body: PayloadFrames(buffer, range, consume: consume), socket)
            }
            if consume { store.release(payload) }
        case .requestPart(let worker, let dispatchID, _, _, let payload, let frame):
            guard let disconnected = workers[worker] else { return false }
            if !disconnected {
                let (buffer, range) = store.payload(payload)
                let index = range.lowerBound + frame
                try sendRequest(to: worker, dispatchID, body: PayloadFrames(buffer, index..<(index + 1), consume: false), socket)
            }
        case .requestJob(let worker, let dispatchID, _, _, let payload):
            guard let disconnected = workers[worker] else { return false }
            if !disconnected {
                try socket.sendMajordomo(to: worker, MajordomoCommand.request.frames(dispatchID: dispatchID) + [payload])
            }
        case .acknowledgeDrain(let worker):
            return workers[worker] != nil  // MDP has no such answer: its DISCONNECT ends the session
        case .cancel(let worker, _):
            return workers[worker] != nil  // MDP cannot cancel: the worker's late REPLY is discarded
        case .heartbeatWorker(let worker):
            guard let disconnected = workers[worker] else { return false }
            // A busy MDP worker may send nothing until it replies, so its silence says nothing; but
            // its connection closes when its process dies, and the ROUTER then no longer routes to it.
            if !disconnected { try probe.heartbeat(worker, [[]] + MajordomoCommand.heartbeat.frames(), socket) }
        case .disconnectWorker(let worker):
            guard let disconnected = workers[worker] else {
                guard forgottenThisPass.contains(worker) else { return false }
                try socket.sendMajordomo(to: worker, MajordomoCommand.disconnect.frames())
                return true
            }
            if !disconnected { try socket.sendMajordomo(to: worker, MajordomoCommand.disconnect.frames()) }
            forgetWorker(worker, core: core)
        case .notice(.workerLeft(let worker, _, _)):
            forgetWorker(worker, core: core)
            return false
        default:
            return false
        }
        return true
    }

    /// Hands over the MDP workers found disconnected since the last call (see ``probe``), for the
    /// loop to tell the core (``BrokerEvent/connectionClosed(from:)``).
    mutating func takeLostWorkers() -> [PeerID] { probe.takeLost() }

    private func sendRequest(to worker: PeerID, _ dispatchID: UInt64, body: PayloadFrames, _ socket: borrowing Socket) throws(ZMQError) {
        try socket.sendMajordomo(to: worker, MajordomoCommand.request.frames(dispatchID: dispatchID), body: body)
    }

    /// Ends an open MDP request when `requestID` is one of `client`'s.
    private mutating func close(_ requestID: UInt64, of client: PeerID) -> OpenRequest? {
        guard let request = requests[requestID], request.client == client else { return nil }
        requests[requestID] = nil
        let open = (clients[client] ?? 1) - 1
        clients[client] = open > 0 ? open : nil
        return request
    }

    /// Forgets an MDP worker the core no longer knows (it may have registered again meanwhile).
    private mutating func forgetWorker(_ worker: PeerID, core: BrokerCore) {
        if core.inFlightCount(of: worker) == nil, workers.removeValue(forKey: worker) != nil { forgottenThisPass.insert(worker) }
    }

    /// MDP clients send no heartbeats: once per heartbeat interval, refreshes every MDP client with
    /// open requests in the core, so its calls run to their deadlines instead of expiring with it.
    mutating func keepClientsAlive(_ core: inout BrokerCore, now: Int64) {
        guard !clients.isEmpty, now >= nextKeepAlive else { return }
        nextKeepAlive = now + core.options.heartbeat.intervalMilliseconds
        var ignored: [BrokerAction] = []  // only the HEARTBEATs answering these, which MDP lacks
        for client in clients.keys {
            core.handle(.message(from: client, .clientHeartbeat), now: now, into: &ignored)
        }
    }
}
