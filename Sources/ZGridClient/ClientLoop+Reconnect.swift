import ZGridProtocol
import ZeroMQ

extension ClientLoop {
    /// A socket that receives an event each time `socket` loses its connection (and each time a
    /// connection's handshake succeeds, see ``connectionDropped(_:)``). The broker that
    /// answers the reconnection may be another one, restarted with other limits and without the
    /// requests in flight; and even the same broker knows the reconnected socket as a new peer. When
    /// the monitor cannot be set up, the socket stays silent, and the client notices only when the
    /// broker falls silent.
    static func watchDisconnects(of socket: borrowing Socket, _ context: Context) throws(ZMQError) -> Socket {
        let events = try Socket(context, type: .pair)
        let endpoint = "inproc://zgrid-client-disconnects-\(UInt64.random(in: 0...UInt64.max))"
        if (try? socket.monitorConnections(on: endpoint)) != nil { try? events.connect(endpoint) }
        return events
    }

    /// Reads the lost-connection events waiting on `disconnects`; true when there was one. After
    /// one, large frames wait for the next HEARTBEAT again and CALLS are not sent until it says how
    /// many fit.
    mutating func noteDisconnects(_ disconnects: borrowing Socket, into buffer: Multipart) throws(ZMQError) -> Bool {
        var lost = false
        while try disconnects.receive(into: buffer) {
            switch MonitorEvent(buffer) {
            case .handshakeSucceeded: handshakeSinceDrop = true
            case .disconnected: lost = true
            case .other: break
            }
        }
        guard lost else { return false }
        limitsHeard = false
        maxFrameBytes = nil
        maxCallsPerMessage = 0
        return true
    }

    /// Ends the wait of every request sent before the connection to the broker dropped: no answer
    /// to it can come on the new connection. A ``ResendableRequest`` goes out again with the same id,
    /// deadline and send time (so a broker that stays away still fails it as unreachable); the wait
    /// of a job WAIT is what its time limit leaves. Calls, scatters and other requests, which may
    /// have taken effect and are not safe to send twice, fail with
    /// ``GridError/brokerUnreachable(_:)``.
    /// A drop of a connection whose handshake never succeeded (a refused CURVE key, no CURVE
    /// where the broker wants it) changes nothing: the requests never left, and still wait in the
    /// socket for a connection that gets through. One that got through carried them, even when the
    /// broker went away before it answered anything.
    mutating func connectionDropped(_ socket: borrowing Socket) throws(ZMQError) {
        guard handshakeSinceDrop else { return }
        handshakeSinceDrop = false
        guard !pending.isEmpty else { return }
        let now = MonotonicClock.nowMilliseconds()
        var resent = 0
        var failed = 0
        for (id, call) in pending {
            if case .call(let waiter) = call.waiter, let request = waiter as? ResendableRequest {
                // One whose deadline has passed ends in this pass's timers.
                guard call.deadline > now else { continue }
                try socket.sendProtocolMessage(
                    tag: ProtocolTag.client, command: request.command.rawValue, id: id,
                    extra: request.frames(timeLeft: call.deadline - now))
                resent += 1
            } else {
                pending[id] = nil
                call.fail(
                    .brokerUnreachable(
                        "the connection to \(broker) dropped before the answer came (the broker may have restarted); "
                            + "the request may or may not have taken effect"))
                failed += 1
            }
        }
        logger.warning("connection to the broker dropped; sent \(resent) requests again, failed \(failed) calls and requests")
    }
}
