import ZGridProtocol
import ZeroMQ

/// A call or scatter waiting in the client for room under the broker's limit of calls in flight
/// per client. A call's ``CallRequest`` in ``ClientLoop/pending`` holds all it needs; a scatter's
/// frames wait here.
enum RoomWaiter {
    case call(UInt64)
    case scatter(id: UInt64, function: String, header: CallHeader, spec: ScatterSpec, frames: [[UInt8]])

    /// The request id.
    var id: UInt64 {
        switch self {
        case .call(let id), .scatter(let id, _, _, _, _): id
        }
    }
}

extension ClientLoop.Pending {
    /// Whether the request is a call or scatter, which take room in the broker's limit of calls in
    /// flight per client once sent.
    var takesRoom: Bool {
        switch waiter {
        case .call(is CallRequest), .pipeline, .scatter: true
        case .call: false
        }
    }

    /// Whether the request is a call or scatter waiting in the client for room: the broker has
    /// never seen it, so it needs no CANCEL, and a dropped connection or a silent broker did not
    /// lose it.
    var waitsForRoom: Bool { !countsInFlight && takesRoom }

    /// Why a call or scatter that waited for room all its time limit failed; nil for others.
    var heldTimeoutMessage: String? {
        let held = "it waited in the client for room under the broker's limit of calls and scatters in flight per client"
        return switch waiter {
        case .call(let waiter as CallRequest): ErrorCode.timeoutMessage(function: waiter.function) + " (\(held))"
        case .scatter: "no answer within the time limit (\(held))"
        case .call, .pipeline: nil
        }
    }
}

extension ClientLoop {
    /// Whether a new call or scatter may go out now: fewer than ``maxInFlight`` are in flight and
    /// none waits for room before it. Past the limit the broker would refuse it BUSY, though
    /// nothing is overloaded: it waits in the client instead, and goes out as answers make room.
    var hasRoom: Bool { pending.inFlight < maxInFlight && roomQueueHead == roomQueue.count }

    /// Takes the limit of calls and scatters in flight per client that the broker's HEARTBEAT gave
    /// (nil: it gave none, as an earlier broker, whose limit is ``GridClient/maxInFlight``); the
    /// application's own limit applies instead when lower. Calls and scatters waiting for room go
    /// out as far as a higher limit makes room, this pass.
    mutating func adoptInFlightLimit(_ announced: Int?) {
        let limit = announced ?? GridClient.maxInFlight
        brokerInFlightLimit = limit
        maxInFlight = min(limit, ownInFlightLimit ?? limit)
    }

    /// Whether calls or scatters wait for room.
    var hasWaitingForRoom: Bool { roomQueueHead < roomQueue.count }

    /// Holds a call or scatter (waiting in ``pending`` with ``Pending/countsInFlight`` false) until
    /// there is room. It keeps its deadline (``timers(_:)`` fails it as a timeout) and its
    /// cancellation (failed at once, unsent), and its place in line.
    mutating func waitForRoom(_ waiter: RoomWaiter) {
        roomQueue.append(waiter)
    }

    /// Sends, in the order they were made, the calls and scatters that waited for room, as far as
    /// the room goes; each with the time its deadline leaves. Those that ended while waiting
    /// (cancelled, timed out, failed) are dropped from the line. One with a frame over the
    /// broker's limit, which it may have waited to learn (a new client, a reconnect), fails as an
    /// invalid argument, unsent, as it would had the limit been known when it was made: sent, it
    /// would make the broker drop the connection, and every request in flight on it.
    mutating func sendWaitingForRoom(_ socket: borrowing Socket) throws(ZMQError) {
        let now = MonotonicClock.nowMilliseconds()
        while pending.inFlight < maxInFlight && roomQueueHead < roomQueue.count {
            let waiter = roomQueue[roomQueueHead]
            roomQueueHead += 1
            guard var entry = pending[waiter.id], !entry.countsInFlight else { continue }
            switch waiter {
            case .call(let id):
                guard case .call(let call as CallRequest) = entry.waiter, entry.deadline > now else { continue }
                if let error = oversized(call.payload.count) {
                    pending[id] = nil
                    call.resume(.failure(error))
                    continue
                }
                entry.countsInFlight = true
                entry.sentAt = heldSince(entry, now: now)
                pending[id] = entry
                var header = call.header
                header.timeoutMilliseconds = UInt32(clamping: entry.deadline - now)
                send(OutgoingCall(id: id, function: call.function, header: header, payload: call.payload))
                if !call.header.isIdempotent { call.payload = [] }
            case .scatter(let id, let function, var header, let spec, let frames):
                let deadline = entry.deadline - Self.scatterSlackMilliseconds
                guard case .scatter(let sink, _) = entry.waiter, deadline > now else { continue }
                if let error = oversized(largestOf: frames) {
                    pending[id] = nil
                    sink.events.finish(throwing: error)
                    continue
                }
                header.timeoutMilliseconds = UInt32(clamping: deadline - now)
                let item = ClientCommandItem.scatter(
                    id: id, function: function, header: header, spec: spec, frames: frames, timeoutMilliseconds: deadline - now,
                    events: sink)
                if !limitsHeard, Self.deadlineIfHeld(item, now: now, holdingAll: connectionDown) != nil {
                    // The connection dropped, or a large frame waits for the broker's limits: held
                    // for those, as a scatter made now would be.
                    pending[id] = nil
                    heldItems.append((item, deadline, heldSince(entry, now: now)))
                    continue
                }
                entry.countsInFlight = true
                entry.sentAt = now
                pending[id] = entry
                try sendScatter(socket, id: id, function: function, header: header, spec: spec, frames: frames)
            }
        }
        if roomQueueHead == roomQueue.count {
            roomQueue.removeAll(keepingCapacity: true)
            roomQueueHead = 0
        }
    }

    /// Since when a call or scatter leaving the line at `now` has waited for a connection: it is
    /// held for one when the connection is down, as a request made after the drop, and it has
    /// waited since the drop, or since it was made if later (see ``expireHeldAfterDrop(now:)``).
    func heldSince(_ entry: Pending, now: Int64) -> Int64 {
        connectionDown ? max(entry.sentAt, droppedAt) : now
    }

    /// Fails each call or scatter waiting for room that has waited longer than `expiry` for a new
    /// connection since the connection dropped (or since it was made, if later), with the error
    /// `error` makes from that time: as one made after the drop, it never left. The line is in
    /// the order the requests were made, so the first that has not waited so long ends the walk.
    mutating func expireWaitingForRoom(now: Int64, after expiry: Int64, _ error: (Int64) -> GridError) {
        while roomQueueHead < roomQueue.count, !(pending[roomQueue[roomQueueHead].id]?.waitsForRoom ?? false) {
            roomQueueHead += 1  // ended while waiting
        }
        for index in roomQueueHead..<roomQueue.count {
            let id = roomQueue[index].id
            guard let entry = pending[id], entry.waitsForRoom else { continue }
            let since = max(entry.sentAt, droppedAt)
            guard now - since > expiry else { break }
            pending.removeValue(forKey: id)?.fail(error(since))
        }
    }

    /// Sends SCATTER.
    func sendScatter(
        _ socket: borrowing Socket, id: UInt64, function: String, header: CallHeader, spec: ScatterSpec, frames: [[UInt8]]
    ) throws(ZMQError) {
        try socket.sendProtocolMessage(
            tag: ProtocolTag.client, command: ClientCommand.scatter.rawValue, id: id, function: function, header: header,
            extra: [spec.encoded] + frames)
    }
}
