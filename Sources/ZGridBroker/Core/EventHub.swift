import DequeModule
import Foundation
import ZGridJobStore
import ZGridProtocol

/// The broker's event log and its subscriptions, as a pure state machine: events in (published
/// events, SUBSCRIBE, EVENT-ACK, store answers, time), ``EventHubAction``s out, no I/O.
///
/// Every event gets the next seq and is written to the job store's event log; it reaches live
/// subscribers once committed, so a seq a client saw is never reused or lost by a crash. A
/// subscription resuming after a seq is first fed from the log in pages, then switches to live
/// events; the store answers reads after the writes queued before them, so the switch neither
/// skips nor repeats an event. Each subscription may have `window` events delivered and not
/// acknowledged; beyond that it lags: events are counted, not sent, and once the consumer has
/// caught up it gets one `lagged` event naming what it missed.
public struct EventHub {
    /// The options in force.
    public let options: EventHubOptions

    private struct Key: Hashable {
        let peer: PeerID
        let requestID: UInt64
    }

    private struct Lag {
        var from: Int64
        var to: Int64
        var count: Int
    }

    private struct Subscription {
        let name: String?
        let filter: EventFilter
        let window: Int
        /// The highest seq delivered, skipped as lagged, or covered by a replay page.
        var position: Int64
        /// Seqs delivered and not yet acknowledged, ascending.
        var unacked: Deque<Int64> = []
        var acked: Int64
        /// Reading the log: live events are left to the reads until a page comes back short.
        var replaying = false
        var readInFlight = false
        /// The page size of the read in flight: a page shorter than this means the log is read to
        /// its end (the window's room at answer time may be larger, after acknowledgements).
        var readLimit = 0
        var lag: Lag?
        var lastHeard: Int64
        /// The acknowledged position last written to the store (named subscriptions).
        var storedPosition: Int64
        /// The log's head when the current read was issued (for gap reports).
        var headAtRead: Int64 = 0
    }

    private var subscriptions: [Key: Subscription] = [:]
    private var byName: [String: Key] = [:]
    /// Acknowledged positions of named subscriptions, including closed ones.
    private var positions: [String: Int64]
    private var nextSeq: Int64
    /// The highest seq whose write has committed (or published, when not recording).
    private var committedHead: Int64
    private var unflushed: [EventRecord] = []
    /// The events of each write handed to the store, delivered live once it commits.
    private(set) var awaitingCommit: [UInt64: [EventRecord]] = [:]
    private var reads: [UInt64: Key] = [:]
    private var nextToken: UInt64 = EventHub.firstToken
    private var nextExpiryAt: Int64 = 0
    private var actions: [EventHubAction] = []

    /// The first store token the hub uses: tokens from here up to `1 << 62` are the hub's.
    public static let firstToken: UInt64 = 1 << 61

    /// Whether a store token belongs to the hub.
    public static func owns(_ token: UInt64) -> Bool { token >= firstToken && token < (1 << 62) }

    private var published = 0
    private var delivered = 0
    private var lagged = 0
    private var opened = 0

    /// Counters since start, by name, for status reports and metrics.
    public var counters: [String: Int] {
        var values: [Int] = []
        appendCounters(to: &values)
        return Dictionary(uniqueKeysWithValues: zip(Self.counterNames, values))
    }

    /// The names of the hub's counters, in the order of ``appendCounters(to:)``.
    static let counterNames = ["events_published", "events_delivered", "events_lagged", "subscriptions_opened"]

    /// Appends the hub's counters to `values`, in the order of ``counterNames``.
    func appendCounters(to values: inout [Int]) {
        values.append(published)
        values.append(delivered)
        values.append(lagged)
        values.append(opened)
    }

    /// Creates a hub whose log continues after `maxSeq`, with the stored positions of named
    /// subscriptions.
    public init(options: EventHubOptions = .init(), maxSeq: Int64 = 0, positions: [String: Int64] = [:]) {
        self.options = options
        nextSeq = maxSeq + 1
        committedHead = maxSeq
        self.positions = positions
    }

    /// How many subscriptions are open.
    public var subscriptionCount: Int { subscriptions.count }

    /// The seq of the last event committed to the log.
    public var head: Int64 { committedHead }

    /// Takes the actions produced since the last call.
    public mutating func takeActions() -> [EventHubAction] {
        flush()
        defer { actions.removeAll(keepingCapacity: true) }
        return actions
    }

    // MARK: Publishing

    /// Numbers `event` and queues it for the log (large results are left out, their size kept).
    public mutating func publish(_ event: EventRecord) {
        var event = event
        event.seq = nextSeq
        nextSeq += 1
        if let result = event.result {
            event.resultSize = result.count
            if result.count > options.inlineResultBytes { event.result = nil }
        }
        published += 1
        if options.record {
            unflushed.append(event)
        } else {
            committedHead = event.seq
            deliverLive([event])
        }
    }

    /// Hands the events published since the last flush to the store in one write.
    private mutating func flush() {
        guard !unflushed.isEmpty else { return }
        let token = takeToken()
        actions.append(.write(unflushed.map { .event($0) }, token: token))
        // Moved, not shared: emptying an array whose buffer a waiting write still holds while
        // keeping its capacity would allocate a fresh buffer of the largest burst's size at every
        // flush, and each later write would then hold one of those until it commits.
        awaitingCommit[token] = unflushed
        unflushed = []
    }

    /// The store committed writes: their events go to live subscribers.
    public mutating func committed(_ tokens: [UInt64]) {
        for token in tokens where Self.owns(token) {
            guard let events = awaitingCommit.removeValue(forKey: token) else { continue }
            if let last = events.last { committedHead = max(committedHead, last.seq) }
            deliverLive(events)
        }
    }

    /// The store failed the transaction holding the writes with `tokens`: the events waiting for
    /// them are lost to subscribers (a hole in the seqs). Events waiting for other writes still
    /// go out when those commit.
    public mutating func storeFailed(_ tokens: [UInt64]) {
        for token in tokens where Self.owns(token) {
            guard let events = awaitingCommit.removeValue(forKey: token) else { continue }
            if let last = events.last { committedHead = max(committedHead, last.seq) }
        }
    }

    private mutating func deliverLive(_ events: [EventRecord]) {
        guard !subscriptions.isEmpty else { return }
        for key in subscriptions.keys {
            guard var subscription = subscriptions[key], !subscription.replaying else { continue }
            var batch: [GridEvent] = []
            for event in events where event.seq > subscription.position && matches(subscription.filter, event) {
                subscription.position = event.seq
                if subscription.lag != nil || subscription.unacked.count >= subscription.window {
                    subscription.lag = Lag(
                        from: subscription.lag?.from ?? event.seq, to: event.seq, count: (subscription.lag?.count ?? 0) + 1)
                    lagged += 1
                } else {
                    subscription.unacked.append(event.seq)
                    batch.append(Self.wire(event))
                }
            }
            subscriptions[key] = subscription
            if !batch.isEmpty {
                delivered += batch.count
                actions.append(.deliver(client: key.peer, requestID: key.requestID, events: batch))
            }
        }
    }

    // MARK: Subscriptions

    /// SUBSCRIBE: opens (or reopens) a subscription and answers with a `subscribed` event, then
    /// replays from the log what it missed or goes live.
    public mutating func subscribe(from peer: PeerID, requestID: UInt64, _ request: SubscribeRequest, now: Int64, wallNow: Int64) {
        let key = Key(peer: peer, requestID: requestID)
        if let name = request.name, name.isEmpty || name.utf8.count > SubscribeRequest.maxNameBytes {
            actions.append(
                .fail(
                    client: peer, requestID: requestID, code: .malformed,
                    message: "a subscription name must have 1 to \(SubscribeRequest.maxNameBytes) bytes"))
            return
        }
        if subscriptions[key] == nil, subscriptions.keys.count(where: { $0.peer == peer }) >= options.maxSubscriptionsPerClient {
            actions.append(
                .fail(
                    client: peer, requestID: requestID, code: .busy,
                    message: "this client already has \(options.maxSubscriptionsPerClient) subscriptions open"))
            return
        }
        if let old = subscriptions.removeValue(forKey: key), let name = old.name { byName[name] = nil }
        if let name = request.name, let other = byName[name], other != key {
            // A new client with the same name takes the subscription over.
            subscriptions[other] = nil
            actions.append(
                .fail(
                    client: other.peer, requestID: other.requestID, code: .cancelled,
                    message: "another client took over the subscription '\(name)'"))
        }
        if let name = request.name, let known = positions[name], known > committedHead {
            positions[name] = committedHead  // stored past the head (see below): read as the head
        }
        let stored = request.name.flatMap { positions[$0] }
        let after = request.after.map { Int64(clamping: $0) } ?? stored ?? committedHead
        let window = min(max(1, request.window ?? options.defaultWindow), options.maxWindow)
        // A seq past the head (another broker's log, a wiped store) is read as the head: taken as
        // acknowledged, it would hide the acknowledgements of the events to come and be stored as
        // the name's position, so that a later subscription with the name skipped them.
        var subscription = Subscription(
            name: request.name, filter: request.filter, window: window, position: min(after, committedHead),
            acked: min(after, committedHead), lastHeard: now, storedPosition: stored ?? -1)
        let resumes = after < committedHead
        subscription.replaying = resumes
        // A named subscription has read up to where it starts: a later one with the name resumes
        // there at least, even if this one never acknowledges an event.
        if let name = request.name { positions[name] = max(positions[name] ?? 0, min(after, committedHead)) }
        subscriptions[key] = subscription
        if let name = request.name { byName[name] = key }
        opened += 1
        let start = max(0, min(after, committedHead))
        let note = resumes ? "resuming after \(after); the log's head is \(committedHead)" : "live from \(committedHead)"
        actions.append(
            .deliver(
                client: peer, requestID: requestID,
                events: [GridEvent(seq: UInt64(start), at: wallNow, kind: .subscribed, message: note, window: window)]))
        if after > committedHead {
            // A seq from the future (another broker's log, or a wiped store): nothing to replay.
            subscriptions[key]?.position = committedHead
        }
        if resumes { readNextPage(key, wallNow: wallNow) }
    }

    /// EVENT-ACK: the consumer took every event up to `seq`; also keeps the subscription alive.
    public mutating func acknowledge(from peer: PeerID, requestID: UInt64, seq: UInt64, now: Int64, wallNow: Int64) {
        let key = Key(peer: peer, requestID: requestID)
        guard var subscription = subscriptions[key] else {
            actions.append(
                .fail(
                    client: peer, requestID: requestID, code: .unknownSubscription,
                    message: "the broker has no such subscription (it restarted or expired it): subscribe again"))
            return
        }
        subscription.lastHeard = now
        let seq = Int64(clamping: seq)
        if seq > subscription.acked {
            subscription.acked = seq
            if let name = subscription.name { positions[name] = max(positions[name] ?? 0, seq) }
        }
        while let first = subscription.unacked.first, first <= subscription.acked { subscription.unacked.removeFirst() }
        if let lag = subscription.lag, subscription.unacked.count <= subscription.window / 2 {
            subscription.lag = nil
            actions.append(
                .deliver(
                    client: peer, requestID: requestID,
                    events: [
                        GridEvent(
                            seq: UInt64(lag.to), at: wallNow, kind: .lagged,
                            message: "this consumer fell behind; query job status to resync",
                            missedFrom: UInt64(lag.from), missedTo: UInt64(lag.to), missed: lag.count)
                    ]))
        }
        subscriptions[key] = subscription
        if subscription.replaying && !subscription.readInFlight { readNextPage(key, wallNow: wallNow) }
    }

    /// CANCEL for `requestID`: closes the subscription; false when there is none (the CANCEL is
    /// about a call).
    public mutating func close(from peer: PeerID, requestID: UInt64) -> Bool {
        let key = Key(peer: peer, requestID: requestID)
        guard let subscription = subscriptions.removeValue(forKey: key) else { return false }
        if let name = subscription.name {
            byName[name] = nil
            storePosition(name, subscription)
        }
        return true
    }

    // MARK: Reading the log

    private mutating func readNextPage(_ key: Key, wallNow: Int64) {
        guard var subscription = subscriptions[key] else { return }
        let room = subscription.window - subscription.unacked.count
        guard room > 0 else { return }  // asked again when the consumer acknowledges
        guard options.record else {
            // No log to read: what was missed is a gap.
            reportGap(key, &subscription, from: subscription.position + 1, to: committedHead, wallNow: wallNow)
            subscription.position = committedHead
            subscription.replaying = false
            subscriptions[key] = subscription
            return
        }
        flush()  // the read must see every event numbered before it
        subscription.readInFlight = true
        subscription.readLimit = room
        subscription.headAtRead = nextSeq - 1
        subscriptions[key] = subscription
        let token = takeToken()
        reads[token] = key
        let filter = subscription.filter
        actions.append(
            .read(
                .events(
                    EventQuery(
                        afterSeq: subscription.position, limit: room, everything: filter.isEverything,
                        jobs: (filter.jobs ?? []).map { Int64(clamping: $0) }, tags: filter.tags ?? [], functions: filter.functions ?? [],
                        pool: filter.pool ?? false)), token: token))
    }

    /// The store answered a read of the hub's (event pages; expiry counts are ignored).
    public mutating func readAnswered(token: UInt64, _ result: Result<StoreReadResult, JobStoreError>, wallNow: Int64) {
        guard let key = reads.removeValue(forKey: token), var subscription = subscriptions[key] else { return }
        subscription.readInFlight = false
        guard case .success(.events(let events, let oldest)) = result else {
            // The log could not be read: report what is missing and go live.
            reportGap(key, &subscription, from: subscription.position + 1, to: subscription.headAtRead, wallNow: wallNow)
            subscription.position = max(subscription.position, subscription.headAtRead)
            subscription.replaying = false
            subscriptions[key] = subscription
            return
        }
        // Events past the position that the log no longer keeps: expired before the replay, or
        // while it went on (the retention passed them between two pages).
        let firstKept = oldest ?? (subscription.headAtRead + 1)
        if firstKept > subscription.position + 1 {
            reportGap(key, &subscription, from: subscription.position + 1, to: firstKept - 1, wallNow: wallNow)
        }
        var batch: [GridEvent] = []
        for event in events where event.seq > subscription.position {
            subscription.position = event.seq
            subscription.unacked.append(event.seq)
            batch.append(Self.wire(event))
        }
        if !batch.isEmpty {
            delivered += batch.count
            actions.append(.deliver(client: key.peer, requestID: key.requestID, events: batch))
        }
        if events.count < subscription.readLimit {
            // Caught up: everything committed before this read was in it; later commits come live.
            subscription.position = max(subscription.position, subscription.headAtRead)
            subscription.replaying = false
        }
        subscriptions[key] = subscription
        if subscription.replaying { readNextPage(key, wallNow: wallNow) }
    }

    private mutating func reportGap(_ key: Key, _ subscription: inout Subscription, from: Int64, to: Int64, wallNow: Int64) {
        guard to >= from else { return }
        actions.append(
            .deliver(
                client: key.peer, requestID: key.requestID,
                events: [
                    GridEvent(
                        seq: UInt64(to), at: wallNow, kind: .gap, message: "events older than the broker keeps could not be replayed",
                        missedFrom: UInt64(from), missedTo: UInt64(to))
                ]))
        subscription.position = max(subscription.position, to)
    }

    // MARK: Time

    /// Closes subscriptions whose client fell silent, writes named positions, expires old events.
    public mutating func tick(now: Int64, wallNow: Int64) {
        for (key, subscription) in subscriptions {
            if now - subscription.lastHeard > options.livenessMilliseconds {
                subscriptions[key] = nil
                if let name = subscription.name {
                    byName[name] = nil
                    storePosition(name, subscription)
                }
            } else if let name = subscription.name, subscription.acked > subscription.storedPosition {
                storePosition(name, subscription)
                subscriptions[key]?.storedPosition = subscription.acked
            }
        }
        if options.record && now >= nextExpiryAt {
            nextExpiryAt = now + 60_000
            actions.append(.read(.expireEvents(before: wallNow - options.retentionMilliseconds), token: takeToken()))
        }
    }

    /// When the hub next needs a tick (monotonic ms), given `now`.
    public func nextWakeup(now: Int64) -> Int64 {
        subscriptions.isEmpty ? now + 60_000 : now + min(1000, options.livenessMilliseconds / 2)
    }

    private mutating func storePosition(_ name: String, _ subscription: Subscription) {
        guard options.record, subscription.acked > subscription.storedPosition else { return }
        actions.append(.write([.subscriptionPosition(name: name, seq: subscription.acked)], token: takeToken()))
    }

    // MARK: Helpers

    private func matches(_ filter: EventFilter, _ event: EventRecord) -> Bool {
        guard let kind = GridEventKind(rawValue: event.kind) else { return false }
        return filter.matches(kind: kind, job: event.job.map { UInt64($0) }, function: event.function, tags: event.tags)
    }

    private mutating func takeToken() -> UInt64 {
        defer { nextToken = nextToken + 1 >= (1 << 62) ? Self.firstToken : nextToken + 1 }
        return nextToken
    }

    /// The wire form of a log event.
    static func wire(_ event: EventRecord) -> GridEvent {
        GridEvent(
            seq: UInt64(event.seq), at: event.at, kind: GridEventKind(rawValue: event.kind) ?? .progress, job: event.job.map { UInt64($0) },
            function: event.function, tags: event.tags.isEmpty ? nil : event.tags, worker: event.worker, attempt: event.attempt,
            fraction: event.fraction, message: event.message, error: event.error, result: event.result.map { Data($0) },
            resultSize: event.resultSize)
    }
}

/// What the event hub asks the broker's shell to do.
public enum EventHubAction: Sendable, Equatable {
    /// Hand writes to the job store.
    case write([StoreWrite], token: UInt64)
    /// Ask the job store.
    case read(StoreRead, token: UInt64)
    /// Send EVENT with these events to a client's subscription.
    case deliver(client: PeerID, requestID: UInt64, events: [GridEvent])
    /// Send ERROR for a subscription.
    case fail(client: PeerID, requestID: UInt64, code: ErrorCode, message: String)
}
