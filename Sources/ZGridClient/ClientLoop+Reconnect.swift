import ZGridProtocol
import ZeroMQ

extension ClientLoop {
    /// A socket that receives an event each time `socket` loses its connection, and each time a
    /// connection's handshake succeeds (see ``connectionChanged(_:_:)``). The broker that
    /// answers the reconnection may be another one, restarted with other limits and without the
    /// requests in flight; and even the same broker knows the reconnected socket as a new peer. When
    /// the monitor cannot be set up, the socket stays silent, and the client notices only when the
    /// broker falls silent.
    static func watchDisconnects(of socket: borrowing Socket, _ context: Context) throws(ZMQError) -> Socket {
        try socket.connectionEvents(context, label: "zgrid-client-disconnects")
    }

    /// The connection events waiting on `disconnects`, in the order they happened (events of
    /// other kinds left out).
    func connectionEvents(_ disconnects: borrowing Socket, into buffer: Multipart) throws(ZMQError) -> [MonitorEvent] {
        var events: [MonitorEvent] = []
        while try disconnects.receive(into: buffer) {
            let event = MonitorEvent(buffer)
            if event != .other { events.append(event) }
        }
        return events
    }

    /// Acts on one connection event. After a lost connection, large frames wait for the next
    /// HEARTBEAT again and CALLS are not sent until it says how many fit (see
    /// ``connectionDropped()``); once a new connection's handshake succeeds, the requests that are
    /// safe to send twice go out again (see ``resendAfterDrop(_:)``).
    mutating func connectionChanged(_ event: MonitorEvent, _ socket: borrowing Socket) throws(ZMQError) {
        switch event {
        case .handshakeSucceeded:
            handshakeSinceDrop = true
            handshakeFailure = nil
            // Held requests go out once this broker says its limits (its answer to the HEARTBEAT).
            connectionDown = false
            // The broker's answer tells its limits (held requests go out then) and that it lives.
            try socket.sendProtocolMessage(tag: ProtocolTag.client, command: ClientCommand.heartbeat.rawValue)
            if !awaitingResend.isEmpty { try resendAfterDrop(socket) }
        case .disconnected:
            limitsHeard = false
            maxFrameBytes = nil
            maxCallsPerMessage = 0
            connectionDropped()
        case .handshakeFailed(let refusedKey):
            handshakeFailure = Self.handshakeFailureMessage(refusedKey: refusedKey, curve: security != nil)
        case .other:
            break
        }
    }

    /// Why the last connection to the broker got no further than its handshake, as the end of an
    /// error message: without it, a refused CURVE key looks like a broker that is down.
    static func handshakeFailureMessage(refusedKey: Bool, curve: Bool) -> String {
        HandshakeFailure.message(refusedKey: refusedKey, role: "client", keysSetting: "client_keys", curve: curve)
    }

    /// Ends the wait of every request sent before the connection to the broker dropped: no answer
    /// to it can come on the new connection. One safe to send twice (see ``isResendable(_:)``) is
    /// kept, with its deadline, and goes out again once a connection's handshake succeeds (see
    /// ``expireAwaitingResend(now:)`` for how long it waits for that). Other calls, scatters and
    /// requests, which may have taken effect, fail with ``GridError/brokerUnreachable(_:)``.
    /// A drop of a connection whose handshake never succeeded (a refused CURVE key, no CURVE
    /// where the broker wants it) changes nothing: the requests never left, and still wait in the
    /// socket for a connection that gets through. One that got through carried them, even when the
    /// broker went away before it answered anything.
    mutating func connectionDropped() {
        guard handshakeSinceDrop else { return }
        handshakeSinceDrop = false
        let now = MonotonicClock.nowMilliseconds()
        connectionDown = true
        droppedAt = now
        guard !pending.isEmpty else { return }
        var failed = 0
        // Calls held until the broker's limits are known never left: they go out when it says them.
        let held = Set(heldCalls.map(\.id))
        // So did calls and scatters waiting for room: they go out as requests made after the drop.
        for (id, call) in pending where !held.contains(id) && !call.waitsForRoom {
            if Self.isResendable(call) {
                awaitingResend.insert(id)
            } else {
                pending[id] = nil
                call.fail(
                    .brokerUnreachable(
                        "the connection to \(broker) dropped before the answer came (the broker may have restarted); "
                            + "the request may or may not have taken effect"))
                failed += 1
            }
        }
        logger.warning(
            "connection to the broker dropped; failed \(failed) calls and requests, \(awaitingResend.count) go out again once it is back")
    }

    /// Whether the request `call` waits on is safe to send again after a lost connection: a
    /// ``ResendableRequest`` (it only reads), or a call the caller marked idempotent.
    static func isResendable(_ call: Pending) -> Bool {
        switch call.waiter {
        case .call(is ResendableRequest): true
        case .call(let waiter as CallRequest): waiter.header.isIdempotent
        case .call: false
        case .pipeline(let run, _): run.flags & CallHeader.idempotentFlag != 0
        case .scatter: false
        }
    }

    /// Sends again, with the same ids and the time each has left, the requests kept when the
    /// connection dropped. One whose deadline has passed ends in this pass's timers; calls go out
    /// with the pass's other calls.
    mutating func resendAfterDrop(_ socket: borrowing Socket) throws(ZMQError) {
        let now = MonotonicClock.nowMilliseconds()
        var resent = 0
        for id in awaitingResend.sorted() {
            guard let call = pending[id], call.deadline > now else { continue }
            let timeLeft = call.deadline - now
            switch call.waiter {
            case .call(let waiter as ResendableRequest):
                try socket.sendProtocolMessage(
                    tag: ProtocolTag.client, command: waiter.command.rawValue, id: id, extra: waiter.frames(timeLeft: timeLeft))
            case .call(let waiter as CallRequest):
                var header = waiter.header
                header.timeoutMilliseconds = UInt32(clamping: timeLeft)
                send(OutgoingCall(id: id, function: waiter.function, header: header, payload: waiter.payload))
            case .pipeline(let run, let slot):
                let header = CallHeader(flags: run.flags, priority: run.priority, timeoutMilliseconds: UInt32(clamping: timeLeft))
                send(OutgoingCall(id: id, function: run.function, header: header, payload: slot.payload))
            case .call, .scatter:
                continue
            }
            // Sent anew: a broker last heard before the drop falling silent does not lose it.
            pending[id]?.sentAt = now
            resent += 1
        }
        awaitingResend.removeAll()
        logger.info("connected to the broker again; sent \(resent) requests again")
    }

    /// How often, at most, the loop looks at the requests kept for sending again while the
    /// connection is down (see ``expireAwaitingResend(now:)``).
    static let awaitingResendCheckMilliseconds: Int64 = 100

    /// Ends the waits of requests kept for sending again that cannot wait longer for a new
    /// connection: every one once the connection has been down for the heartbeat expiry (the broker
    /// is taken for gone, as when it falls silent), and a job WAIT once its wait is over (a new
    /// connection could only say that the job has not finished).
    mutating func expireAwaitingResend(now: Int64) {
        let gone = now - droppedAt > heartbeat.expiryMilliseconds
        for id in awaitingResend {
            guard let call = pending[id] else {
                awaitingResend.remove(id)
                continue
            }
            let error: GridError
            if gone {
                error = .brokerUnreachable("the connection to \(broker) dropped \(now - droppedAt) ms ago and is not back")
            } else if case .call(let waiter as ResendableRequest) = call.waiter, let end = waiter.waitEnds(deadline: call.deadline),
                now >= end
            {
                error = .timeout("no answer within the wait: the connection to \(broker) is down")
            } else {
                continue
            }
            awaitingResend.remove(id)
            pending[id] = nil
            call.fail(error)
        }
    }
}
