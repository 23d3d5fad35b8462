import ZGridProtocol
import ZeroMQ

extension ClientLoop {
    /// The largest frame every broker takes (`max_message_bytes` is at least this): requests whose
    /// frames all fit go out before the broker has said its limit.
    static let alwaysAcceptedFrameBytes = 1024

    /// Queues a call for this pass's CALL or CALLS, or holds it until the broker's limits are
    /// known when its payload may be over them or the connection is down.
    mutating func send(_ call: OutgoingCall) {
        if !limitsHeard && (connectionDown || call.payload.count > Self.alwaysAcceptedFrameBytes) {
            heldCalls.append(call)
        } else {
            outgoing.append(call)
        }
    }

    /// The deadline of a request other than a call that must wait for the broker's limits (any
    /// request when `holdingAll`, else one with a frame over ``alwaysAcceptedFrameBytes``); nil
    /// when it may go out now.
    static func deadlineIfHeld(_ item: ClientCommandItem, now: Int64, holdingAll: Bool) -> Int64? {
        switch item {
        case .request(_, _, let frames, let timeout, _) where holdingAll || frames.contains(where: { $0.count > alwaysAcceptedFrameBytes }):
            now + timeout
        case .scatter(_, _, _, _, let frames, let timeout, _)
        where holdingAll || frames.contains(where: { $0.count > alwaysAcceptedFrameBytes }):
            now + timeout
        default: nil
        }
    }

    /// Fails each request held while the connection is down that has waited the heartbeat expiry
    /// for a new connection (the broker is taken for gone, as when it falls silent), calls and
    /// scatters waiting for room included. They never left, so the caller may make them again.
    mutating func expireHeldAfterDrop(now: Int64) {
        let expiry = heartbeat.expiryMilliseconds
        let (broker, droppedAt) = (self.broker, self.droppedAt)
        func error(since: Int64) -> GridError {
            .brokerUnreachable(
                "the connection to \(broker) dropped \(now - droppedAt) ms ago and did not come back within \(now - since) ms; "
                    + "the request was not sent")
        }
        heldItems.removeAll { held in
            guard now - held.since > expiry else { return false }
            Self.reject(held.item, error(since: held.since))
            return true
        }
        heldCalls.removeAll { call in
            guard let waiting = pending[call.id] else { return true }
            guard now - waiting.sentAt > expiry else { return false }
            pending.removeValue(forKey: call.id)?.fail(error(since: waiting.sentAt))
            return true
        }
        if hasWaitingForRoom { expireWaitingForRoom(now: now, after: expiry, error(since:)) }
    }

    /// Sends, or refuses as too large, what was held until the broker's limits were known.
    mutating func releaseHeld(_ socket: borrowing Socket) throws(ZMQError) {
        limitsJustHeard = false
        let calls = heldCalls
        heldCalls.removeAll()
        for call in calls where pending.contains(call.id) {
            if let error = oversized(call.payload.count) {
                pending.removeValue(forKey: call.id)?.fail(error)
            } else {
                outgoing.append(call)
            }
        }
        let now = MonotonicClock.nowMilliseconds()
        expireHeldItems(now: now)
        let items = heldItems
        heldItems.removeAll()
        // Each keeps the time limit it had when it was made: it goes out with the time left.
        for (item, deadline, _) in items { try process(Self.item(item, timeLeft: deadline - now), socket, now: now) }
    }

    /// `item` with `milliseconds` as its time limit.
    static func item(_ item: ClientCommandItem, timeLeft milliseconds: Int64) -> ClientCommandItem {
        switch item {
        case .request(let id, let command, let frames, _, let waiter):
            return .request(id: id, command: command, frames: frames, timeoutMilliseconds: milliseconds, waiter: waiter)
        case .scatter(let id, let function, var header, let spec, let frames, _, let events):
            header.timeoutMilliseconds = UInt32(clamping: milliseconds)
            return .scatter(
                id: id, function: function, header: header, spec: spec, frames: frames, timeoutMilliseconds: milliseconds, events: events)
        default:
            return item
        }
    }

    /// Ends the wait of held request `id` (its task was cancelled) with ``GridError/cancelled`` at
    /// once, instead of when the broker's limits are known or the hold expires; it was never sent,
    /// so the broker has nothing to cancel. False when no held request has this id.
    mutating func cancelHeld(_ id: UInt64) -> Bool {
        guard let index = heldItems.firstIndex(where: { $0.item.requestID == id }) else { return false }
        Self.reject(heldItems.remove(at: index).item, .cancelled)
        return true
    }

    /// Drops held calls that ended while held (timed out or cancelled), with their payloads.
    mutating func forgetEndedHeldCalls() {
        heldCalls.removeAll { !pending.contains($0.id) }
    }

    /// Fails held requests whose time limit passed while the broker's limits were unknown.
    mutating func expireHeldItems(now: Int64) {
        heldItems.removeAll { held in
            guard held.deadline <= now else { return false }
            Self.reject(held.item, .timeout("no answer within the time limit (the broker has not answered since the client connected)"))
            return true
        }
    }
}
