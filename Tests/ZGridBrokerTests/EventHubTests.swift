import Testing
import ZGridJobStore
import ZGridProtocol

@testable import ZGridBroker

/// The event hub as a pure state machine: the tests play the store (commit tokens, answer reads
/// from an in-memory log) and the client (acknowledge), and check what reaches each subscription.
@Suite("Event hub: numbering, live delivery after commit, replay, windows, lag, gaps, named positions")
struct EventHubTests {
    /// A hub with an in-memory stand-in for the store's event log.
    struct Harness {
        var hub: EventHub
        var log: [EventRecord] = []
        var oldestKept: Int64?
        var delivered: [PeerID: [GridEvent]] = [:]
        var failures: [(PeerID, ErrorCode)] = []
        var writes: [(UInt64, [StoreWrite])] = []
        var reads: [(UInt64, StoreRead)] = []
        var now: Int64 = 0

        init(options: EventHubOptions = .init(), maxSeq: Int64 = 0, positions: [String: Int64] = [:]) {
            hub = EventHub(options: options, maxSeq: maxSeq, positions: positions)
        }

        /// Publishes job events for `job` and takes the hub's actions (writes stay uncommitted).
        mutating func publish(_ kinds: [GridEventKind], job: Int64, function: String = "f", tags: [String] = []) {
            for kind in kinds {
                hub.publish(EventRecord(at: now, kind: kind.rawValue, job: job, function: function, tags: tags))
            }
            take()
        }

        /// Commits every write handed out so far, appending its events to the log.
        mutating func commitAll() {
            let tokens = writes.map(\.0)
            for (_, batch) in writes {
                for write in batch { if case .event(let event) = write { log.append(event) } }
            }
            writes.removeAll()
            hub.committed(tokens)
            take()
        }

        /// Answers every pending read from the log.
        mutating func answerReads() {
            while !reads.isEmpty {
                let (token, query) = reads.removeFirst()
                guard case .events(let q) = query else { continue }
                let matching = log.filter { event in
                    event.seq > q.afterSeq
                        && (q.everything || q.jobs.contains(event.job ?? -1) || q.functions.contains(event.function ?? ""))
                }
                hub.readAnswered(
                    token: token, .success(.events(Array(matching.prefix(q.limit)), oldest: oldestKept ?? log.first?.seq)), wallNow: now)
                take()
            }
        }

        mutating func subscribe(_ client: PeerID, id: UInt64 = 1, _ request: SubscribeRequest) {
            hub.subscribe(from: client, requestID: id, request, now: now, wallNow: now)
            take()
        }

        mutating func ack(_ client: PeerID, id: UInt64 = 1, _ seq: UInt64) {
            hub.acknowledge(from: client, requestID: id, seq: seq, now: now, wallNow: now)
            take()
        }

        mutating func take() {
            for action in hub.takeActions() {
                switch action {
                case .write(let batch, let token): writes.append((token, batch))
                case .read(let query, let token): reads.append((token, query))
                case .deliver(let client, _, let events): delivered[client, default: []] += events
                case .fail(let client, _, let code, _): failures.append((client, code))
                }
            }
        }

        func logEvents(_ client: PeerID) -> [GridEvent] {
            (delivered[client] ?? []).filter { ![.subscribed, .lagged, .gap].contains($0.kind) }
        }
    }

    @Test("events are numbered in order and reach a live subscriber only once committed")
    func liveAfterCommit() {
        var h = Harness(maxSeq: 41)
        h.subscribe(client1, SubscribeRequest(filter: .everything))
        h.publish([.queued, .started], job: 7)
        #expect(h.logEvents(client1).isEmpty, "nothing before the commit")
        let written = h.writes.flatMap(\.1).compactMap { if case .event(let e) = $0 { e.seq } else { nil } }
        #expect(written == [42, 43], "the log continues after the recovered head")
        h.commitAll()
        #expect(h.logEvents(client1).map(\.seq) == [42, 43])
        #expect(h.logEvents(client1).map(\.kind) == [.queued, .started])
        #expect(h.hub.head == 43)
    }

    @Test("filters: by job, by tag, by function, pool events; criteria add up")
    func filters() {
        var h = Harness()
        h.subscribe(client1, id: 1, SubscribeRequest(filter: .job(2)))
        h.subscribe(client1, id: 2, SubscribeRequest(filter: .tag("vip")))
        h.subscribe(client2, id: 3, SubscribeRequest(filter: EventFilter(functions: ["mail"], pool: true)))
        h.publish([.queued], job: 1, function: "resize", tags: ["vip"])
        h.publish([.queued], job: 2, function: "resize")
        h.publish([.queued], job: 3, function: "mail")
        h.hub.publish(EventRecord(at: 0, kind: GridEventKind.workerJoined.rawValue, worker: "ab"))
        h.take()
        h.commitAll()
        #expect(h.logEvents(client1).map(\.job) == [1, 2])
        #expect(h.logEvents(client2).map(\.kind) == [.queued, .workerJoined])
        #expect(h.logEvents(client2).first?.job == 3)
    }

    @Test("a consumer gets at most its window unacknowledged, then one lagged event naming what it missed")
    func windowAndLag() {
        var h = Harness()
        h.subscribe(client1, SubscribeRequest(filter: .everything, window: 4))
        for job in 1...10 { h.publish([.queued], job: Int64(job)) }
        h.commitAll()
        #expect(h.logEvents(client1).map(\.seq) == [1, 2, 3, 4])
        h.ack(client1, 1)
        #expect(h.delivered[client1]?.last?.kind != .lagged, "still more than half the window unacknowledged")
        h.ack(client1, 4)
        let lagged = h.delivered[client1]?.last
        #expect(lagged?.kind == .lagged)
        #expect(lagged?.missedFrom == 5 && lagged?.missedTo == 10 && lagged?.missed == 6)
        h.publish([.started], job: 1)
        h.commitAll()
        #expect(h.logEvents(client1).last?.seq == 11, "live again after the lag")
    }

    @Test("a resumed subscription is fed from the log in pages, then live, with no event twice or missed")
    func replayThenLive() {
        var h = Harness()
        for job in 1...10 { h.publish([.queued], job: Int64(job)) }
        h.commitAll()
        h.subscribe(client1, SubscribeRequest(filter: .everything, after: 3, window: 4))
        #expect(h.delivered[client1]?.first?.kind == .subscribed)
        #expect(h.delivered[client1]?.first?.seq == 3)
        h.answerReads()
        #expect(h.logEvents(client1).map(\.seq) == [4, 5, 6, 7], "one page: the window")
        // Published while the replay is under way: left to the reads, not sent live.
        h.publish([.started], job: 1)
        h.commitAll()
        #expect(h.logEvents(client1).map(\.seq) == [4, 5, 6, 7])
        h.ack(client1, 7)
        h.answerReads()
        #expect(h.logEvents(client1).map(\.seq) == [4, 5, 6, 7, 8, 9, 10, 11])
        h.ack(client1, 11)
        h.answerReads()
        h.publish([.succeeded], job: 1)
        h.commitAll()
        #expect(h.logEvents(client1).map(\.seq) == Array(4...12))
    }

    @Test("a replay page answered after the consumer acknowledged more is not taken for the log's end")
    func replayPageAfterAcknowledgement() {
        var h = Harness()
        for job in 1...20 { h.publish([.queued], job: Int64(job)) }
        h.commitAll()
        h.subscribe(client1, SubscribeRequest(filter: .everything, after: 0, window: 4))
        h.answerReads()
        #expect(h.logEvents(client1).map(\.seq) == [1, 2, 3, 4])
        h.ack(client1, 2)  // room for 2: a read of 2 goes out
        h.ack(client1, 4)  // the consumer takes the rest while that read is in flight
        h.answerReads()  // 2 events, a full page of that read, though the room is now 4
        for _ in 0..<10 {
            guard let last = h.logEvents(client1).last?.seq else { break }
            h.ack(client1, last)
            h.answerReads()
        }
        #expect(h.logEvents(client1).map(\.seq) == Array(1...20), "every logged event, none skipped")
        #expect(!(h.delivered[client1] ?? []).contains { $0.kind == .gap || $0.kind == .lagged })
    }

    @Test("resuming after events the log no longer keeps reports a gap, then replays what is kept")
    func gapBeyondRetention() {
        var h = Harness()
        for job in 1...10 { h.publish([.queued], job: Int64(job)) }
        h.commitAll()
        h.log.removeFirst(6)  // expired: 1...6
        h.subscribe(client1, SubscribeRequest(filter: .everything, after: 2))
        h.answerReads()
        let gap = h.delivered[client1]?.first { $0.kind == .gap }
        #expect(gap?.missedFrom == 3 && gap?.missedTo == 6)
        #expect(h.logEvents(client1).map(\.seq) == [7, 8, 9, 10])
    }

    @Test("events the log expires while a replay is under way are reported as a gap, not skipped silently")
    func gapDuringReplay() {
        var h = Harness()
        for job in 1...10 { h.publish([.queued], job: Int64(job)) }
        h.commitAll()
        h.subscribe(client1, SubscribeRequest(filter: .everything, after: 0, window: 4))
        h.answerReads()
        #expect(h.logEvents(client1).map(\.seq) == [1, 2, 3, 4])
        h.log.removeFirst(7)  // the retention passes for 1...7 while the consumer is still on 4
        h.ack(client1, 4)
        h.answerReads()
        let gap = h.delivered[client1]?.first { $0.kind == .gap }
        #expect(gap?.missedFrom == 5 && gap?.missedTo == 7, "the expired events the consumer had not reached")
        #expect(h.logEvents(client1).map(\.seq) == [1, 2, 3, 4, 8, 9, 10])
    }

    @Test("without a log (no job store), a resume is a gap and events go out at once")
    func withoutLog() {
        var h = Harness(options: EventHubOptions(record: false))
        h.subscribe(client1, SubscribeRequest(filter: .everything))
        h.publish([.queued], job: 1)
        #expect(h.logEvents(client1).map(\.seq) == [1])
        #expect(h.writes.isEmpty)
        h.subscribe(client2, SubscribeRequest(filter: .everything, after: 0))
        #expect(h.delivered[client2]?.contains { $0.kind == .gap && $0.missedFrom == 1 && $0.missedTo == 1 } == true)
    }

    @Test("a named subscription's position is stored, survives a restart, and a new client takes it over")
    func namedPositions() {
        var h = Harness()
        h.subscribe(client1, SubscribeRequest(name: "dash", filter: .everything))
        h.publish([.queued, .started, .succeeded], job: 1)
        h.commitAll()
        h.ack(client1, 2)
        h.now = 1000
        h.hub.tick(now: 1000, wallNow: 1000)
        h.take()
        let stored = h.writes.flatMap(\.1).compactMap { if case .subscriptionPosition("dash", let seq) = $0 { seq } else { nil } }
        #expect(stored == [2])
        // A new client with the same name takes over and resumes after 2.
        h.subscribe(client2, SubscribeRequest(name: "dash", filter: .everything))
        #expect(h.failures.contains { $0.0 == client1 && $0.1 == .cancelled })
        #expect(h.delivered[client2]?.first?.seq == 2)
        h.answerReads()
        #expect(h.logEvents(client2).map(\.seq) == [3])
        // After a restart the hub starts from the stored positions.
        var restarted = Harness(maxSeq: 3, positions: ["dash": 3])
        restarted.subscribe(client1, SubscribeRequest(name: "dash", filter: .everything))
        #expect(restarted.delivered[client1]?.first?.seq == 3)
        #expect(restarted.reads.isEmpty, "nothing to replay")
    }

    @Test("a named subscription resuming after a seq past the head stores the seqs it takes, not that one")
    func namedResumeFromTheFuture() {
        var h = Harness(maxSeq: 10)
        // After a seq from another log (the client's last seq before the broker came back with a
        // new store): live from the head.
        h.subscribe(client1, SubscribeRequest(name: "dash", filter: .everything, after: 1000))
        #expect(h.delivered[client1]?.first?.seq == 10)
        h.publish([.queued, .started], job: 1)
        h.commitAll()
        h.ack(client1, 12)
        h.now = 1000
        h.hub.tick(now: 1000, wallNow: 1000)
        let closed = h.hub.close(from: client1, requestID: 1)
        #expect(closed)
        h.take()
        let stored = h.writes.flatMap(\.1).compactMap { if case .subscriptionPosition("dash", let seq) = $0 { seq } else { nil } }
        #expect(stored.max() == 12, "the position is the last seq taken")
        // Events while no one reads under the name; then a restart with the stored position.
        var restarted = Harness(maxSeq: 12, positions: ["dash": stored.max() ?? 0])
        restarted.publish([.succeeded], job: 1)
        restarted.commitAll()
        restarted.subscribe(client2, SubscribeRequest(name: "dash", filter: .everything))
        restarted.answerReads()
        #expect(restarted.logEvents(client2).map(\.seq) == [13], "the event published meanwhile is replayed")
        // A position stored past the head (before this was fixed) is read as the head and moves on.
        var poisoned = Harness(maxSeq: 12, positions: ["dash": 1000])
        poisoned.subscribe(client1, SubscribeRequest(name: "dash", filter: .everything))
        poisoned.publish([.succeeded], job: 1)
        poisoned.commitAll()
        poisoned.ack(client1, 13)
        poisoned.now = 1000
        poisoned.hub.tick(now: 1000, wallNow: 1000)
        poisoned.take()
        let moved = poisoned.writes.flatMap(\.1).compactMap { if case .subscriptionPosition("dash", let seq) = $0 { seq } else { nil } }
        #expect(moved == [13])
    }

    @Test("EVENT-ACK for an unknown subscription asks the client to subscribe again; silent ones expire")
    func unknownAndExpiry() {
        var h = Harness(options: EventHubOptions(livenessMilliseconds: 500))
        h.ack(client1, 5)
        #expect(h.failures.map(\.1) == [.unknownSubscription])
        h.subscribe(client2, SubscribeRequest(filter: .everything))
        #expect(h.hub.subscriptionCount == 1)
        h.hub.tick(now: 1000, wallNow: 1000)
        #expect(h.hub.subscriptionCount == 0)
        let closed = h.hub.close(from: client2, requestID: 1)
        #expect(!closed, "an expired subscription is gone")
    }

    @Test("a lost worker's worker_left comes before the no_workers it leaves its function with")
    func lostWorkerEventsInOrder() {
        var driver = Driver(options: testOptions(interval: 100, liveness: 1))
        driver.ready(worker1)
        driver.published.removeAll()
        driver.now = 300
        driver.send(.tick)
        let kinds = driver.published.map(\.kind)
        #expect(kinds == ["worker_left", "no_workers"], "\(kinds)")
    }

    @Test("the core publishes job transitions and coalesces progress to one event per interval")
    func coreEventsAndProgress() {
        var core = BrokerCore(options: BrokerOptions(progressIntervalMilliseconds: 100), now: 0)
        core.wallNow = 1
        var actions: [BrokerAction] = []
        core.recoverJobs([], maxID: 0, now: 0, into: &actions)
        core.handle(.message(from: worker1, .ready(concurrency: 4, functions: [ServiceDescriptor(name: "f")])), now: 0, into: &actions)
        core.handle(
            .message(from: client1, .submit(requestID: 1, function: "f", spec: JobSpec(), keys: JobKeys(), tags: [], payload: [])), now: 0,
            into: &actions)
        let token = actions.compactMap { if case .storeWrite(_, let token) = $0 { token } else { nil } }.last!
        actions.removeAll()
        core.handle(.storeCommitted(tokens: [token]), now: 1, into: &actions)
        let kinds = actions.compactMap { if case .publish(let e) = $0 { e.kind } else { nil } }
        #expect(kinds == ["queued", "started"])
        let dispatchID = actions.compactMap { if case .requestJob(_, let id, _, _, _) = $0 { id } else { nil } }.first!
        actions.removeAll()
        for step in 0..<10 {
            core.handle(
                .message(from: worker1, .progress(dispatchID: dispatchID, fraction: Double(step) / 10, message: "")), now: 10 + Int64(step),
                into: &actions)
        }
        #expect(actions.count { if case .publish = $0 { true } else { false } } == 1, "the first goes out, the rest wait")
        #expect(core.nextWakeup <= 110)
        core.handle(.tick, now: 110, into: &actions)
        let fractions = actions.compactMap { if case .publish(let e) = $0 { e.fraction } else { nil } }
        #expect(fractions == [0, 0.9], "the latest held report is published when the interval ends")
    }
}
