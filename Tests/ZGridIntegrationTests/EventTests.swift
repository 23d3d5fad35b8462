import Foundation
import Synchronization
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZGridWorker
import ZeroMQ

extension IntegrationTests {
    @Suite("The event channel: job and pool events pushed to subscribers", .serialized, .timeLimit(.minutes(3)))
    struct EventTests {
        /// Collects events from a stream on a task until `stop` says so.
        final class Collector: Sendable {
            private let state = Mutex<(events: [GridEvent], error: GridError?)>(([], nil))
            private let task = Mutex<Task<Void, Never>?>(nil)

            init(_ stream: EventStream) {
                let running = Task { [self] in
                    do {
                        for try await event in stream { state.withLock { $0.events.append(event) } }
                    } catch {
                        state.withLock { $0.error = error as? GridError ?? .internal("\(error)") }
                    }
                }
                task.withLock { $0 = running }
            }

            var snapshot: [GridEvent] { state.withLock { $0.events } }
            var error: GridError? { state.withLock { $0.error } }

            func kinds(of job: UInt64) -> [GridEventKind] { snapshot.filter { $0.job == job }.map(\.kind) }

            func stop() async {
                let task = self.task.withLock { $0 }
                task?.cancel()
                await task?.value
            }
        }

        @Test("a subscriber sees a job's events in order: queued, started, progress, succeeded with the result")
        func orderPerJob() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let broker = try startBroker(jobStore: directory.file("jobs.sqlite"))
            defer { broker.stop() }
            let worker = try await startWorker(broker) { worker in
                worker.register("report") { request in
                    for step in 1...4 {
                        request.progress(Double(step) / 4, "step \(step)")
                        try await Task.sleep(for: .milliseconds(120))
                    }
                    return bytes("done \(request.job ?? 0)")
                }
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let collector = Collector(try client.events(matching: client.submittedByThisClient))
            try await waitUntil("subscribed") { collector.snapshot.contains { $0.kind == .subscribed } }
            let id = try await client.submit("report", bytes("q3"))
            try await waitUntil("job finished") { collector.kinds(of: id).contains(.succeeded) }
            let events = collector.snapshot.filter { $0.job == id }
            let kinds = events.map(\.kind)
            #expect(kinds.first == .queued)
            #expect(kinds.dropFirst().first == .started)
            #expect(kinds.last == .succeeded)
            #expect(kinds.contains(.progress))
            let seqs = collector.snapshot.filter { $0.kind != .subscribed }.map(\.seq)
            #expect(seqs == seqs.sorted() && Set(seqs).count == seqs.count, "seqs rise strictly: \(seqs)")
            let fractions = events.compactMap(\.fraction)
            #expect(fractions == fractions.sorted(), "progress only moves forward: \(fractions)")
            #expect(events.last?.result == Data(bytes("done \(id)")))
            #expect(events.first { $0.kind == .started }?.worker != nil)
            await collector.stop()
            await client.close()
            await worker.stop()
        }

        @Test("a new client with the same subscription name resumes after the last event the first one took")
        func resumeByName() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let broker = try startBroker(jobStore: directory.file("jobs.sqlite"))
            defer { broker.stop() }
            let worker = try await startWorker(broker) { worker in worker.register("noop") { _ in [] } }
            let submitter = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let first = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let before = Collector(try first.events(matching: .function("noop"), name: "dashboard"))
            try await waitUntil("subscribed") { before.snapshot.contains { $0.kind == .subscribed } }
            let early = try await submitter.submit("noop")
            _ = try await submitter.result(job: early, timeout: .seconds(5))
            try await waitUntil("first client saw the job finish") { before.kinds(of: early).contains(.succeeded) }
            await before.stop()
            await first.close()
            // While nobody listens, more jobs run.
            var late: [UInt64] = []
            for _ in 0..<5 { late.append(try await submitter.submit("noop")) }
            for id in late { _ = try await submitter.result(job: id, timeout: .seconds(5)) }
            let second = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let after = Collector(try second.events(matching: .function("noop"), name: "dashboard"))
            try await waitUntil("missed events replayed") { late.allSatisfy { after.kinds(of: $0).contains(.succeeded) } }
            let lastSeenBefore = before.snapshot.filter { $0.kind != .subscribed }.map(\.seq).max() ?? 0
            let replayed = after.snapshot.filter { $0.kind != .subscribed }
            #expect(replayed.allSatisfy { $0.seq > lastSeenBefore }, "nothing the first client took comes again")
            #expect(replayed.allSatisfy { $0.job != early }, "the early job's events were taken already")
            #expect(!replayed.contains { $0.kind == .gap || $0.kind == .lagged })
            for id in late { #expect(after.kinds(of: id) == [.queued, .started, .succeeded], "job \(id)") }
            let seqs = replayed.map(\.seq)
            #expect(seqs == seqs.sorted() && Set(seqs).count == seqs.count)
            await after.stop()
            await second.close()
            await submitter.close()
            await worker.stop()
        }

        @Test("a named subscription that took no event still marks where it started: the next one with the name resumes there")
        func namedSubscriptionWithoutEvents() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let broker = try startBroker(jobStore: directory.file("jobs.sqlite"))
            defer { broker.stop() }
            let worker = try await startWorker(broker) { worker in worker.register("noop") { _ in [] } }
            let first = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let quiet = Collector(try first.events(matching: .function("noop"), name: "dashboard"))
            try await waitUntil("subscribed") { quiet.snapshot.contains { $0.kind == .subscribed } }
            await quiet.stop()
            await first.close()
            let submitter = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let id = try await submitter.submit("noop")
            _ = try await submitter.result(job: id, timeout: .seconds(5))
            let second = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let resumed = Collector(try second.events(matching: .function("noop"), name: "dashboard"))
            try await waitUntil("the job's events replayed") { resumed.kinds(of: id).contains(.succeeded) }
            #expect(resumed.kinds(of: id) == [.queued, .started, .succeeded])
            #expect(quiet.snapshot.allSatisfy { $0.kind == .subscribed }, "the first subscription took no event")
            await resumed.stop()
            await second.close()
            await submitter.close()
            await worker.stop()
        }

        /// Finishes `count` noop jobs on a broker with a job store, then replays their events
        /// from the start of the log to a new subscription (of `window`, when given) until every
        /// job's `succeeded` arrived; returns the job ids, the events replayed (`subscribed` left
        /// out) and the error the subscription ended with, if any.
        private func replayFinishedNoopJobs(_ count: Int, window: Int? = nil) async throws -> (
            ids: [UInt64], replayed: [GridEvent], error: GridError?
        ) {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let broker = try startBroker(jobStore: directory.file("jobs.sqlite"))
            defer { broker.stop() }
            let worker = try await startWorker(broker, concurrency: 32) { worker in worker.register("noop") { _ in [] } }
            let submitter = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let ids = try await Self.finishedNoopJobs(count, submitter)
            let reader = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let collector = Collector(try reader.events(matching: .function("noop"), after: 0, window: window))
            try await waitUntil("every job's events replayed", seconds: 20) {
                collector.snapshot.count(where: { $0.kind == .succeeded }) == ids.count
            }
            let replayed = collector.snapshot.filter { $0.kind != .subscribed }
            let error = collector.error
            await collector.stop()
            await reader.close()
            await submitter.close()
            await worker.stop()
            return (ids, replayed, error)
        }

        @Test("a replay of more events than one message has frames for arrives whole and in order")
        func longReplay() async throws {
            // 120 jobs log 360 events (queued, started, succeeded): past the 256 frames a client takes in one message.
            let (ids, replayed, error) = try await replayFinishedNoopJobs(120)
            #expect(replayed.count == 3 * ids.count)
            let seqs = replayed.map(\.seq)
            #expect(seqs == seqs.sorted() && Set(seqs).count == seqs.count)
            for id in ids {
                #expect(replayed.filter { $0.job == id }.map(\.kind) == [.queued, .started, .succeeded], "job \(id)")
            }
            #expect(error == nil)
        }

        @Test("a replay in many pages to a consumer that keeps acknowledging skips no event")
        func pagedReplayToFastConsumer() async throws {
            // A window of 8: the consumer acknowledges every 2 events, also while the next page
            // is being read, which must not end the replay early.
            let (ids, replayed, _) = try await replayFinishedNoopJobs(200, window: 8)
            #expect(replayed.count == 3 * ids.count)
            #expect(!replayed.contains { $0.kind == .gap || $0.kind == .lagged })
        }

        @Test("a consumer that keeps up does not lag under a broker whose [events] window is small")
        func brokerWindowSmallerThanClientDefault() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            var configuration = BrokerConfiguration(
                endpoints: ["tcp://127.0.0.1:0"], options: BrokerOptions(heartbeat: testHeartbeat),
                jobStorePath: directory.file("jobs.sqlite"))
            configuration.events.defaultWindow = 16
            let broker = try BrokerServer.start(configuration, logger: quietLogger("test.broker"))
            defer { broker.stop() }
            let worker = try await startWorker(broker, concurrency: 32) { worker in worker.register("noop") { _ in [] } }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            // No window asked for: the broker's 16 applies, and the client must acknowledge within it.
            let collector = Collector(try client.events(matching: .function("noop")))
            try await waitUntil("subscribed") { collector.snapshot.contains { $0.kind == .subscribed } }
            #expect(collector.snapshot.first?.window == 16, "the subscribed event says which window applies")
            // One job at a time: a few events per commit, far fewer than the window between two
            // acknowledgements of a consumer that takes each at once (a burst larger than the
            // window in one commit would lag any consumer).
            var ids: [UInt64] = []
            for _ in 0..<40 {
                let id = try await client.submit("noop")
                _ = try await client.result(job: id, timeout: .seconds(20))
                ids.append(id)
            }
            try await waitUntil("every job's events delivered, or a lag", seconds: 10) {
                collector.snapshot.contains { $0.kind == .lagged }
                    || collector.snapshot.count(where: { $0.kind == .succeeded }) == ids.count
            }
            #expect(!collector.snapshot.contains { $0.kind == .lagged }, "a consumer reading at once never lags")
            #expect(collector.snapshot.count(where: { $0.kind != .subscribed }) == 3 * ids.count)
            await collector.stop()
            await client.close()
            await worker.stop()
        }

        @Test("zgrid watch --name taken over by another watcher of that name says so and exits 2")
        func watchTakenOver() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let broker = try startBroker(jobStore: directory.file("jobs.sqlite"))
            defer { broker.stop() }
            let config = directory.file("cluster.conf")
            try "[broker]\nconnect = \"\(broker.endpoints[0])\"\nheartbeat_ms = 200\nliveness = 4\nlog_level = \"error\"\n".write(
                toFile: config, atomically: true, encoding: .utf8)
            let watching = Task { try await runZGrid(["watch", "--name", "dash", "--config", config], in: directory, seconds: 20) }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let deadline = ContinuousClock.now + .seconds(10)
            while (try? await client.brokerStatus().counters["subscriptions_open"]) != 1 {
                #expect(ContinuousClock.now < deadline, "zgrid watch did not subscribe")
                if ContinuousClock.now >= deadline { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let taker = EventTests.Collector(try client.events(name: "dash"))
            let run = try await watching.value
            #expect(run.status == 2, "\(run)")
            #expect(run.errors.contains("another watcher subscribed with --name dash and took the subscription over"), "\(run)")
            await taker.stop()
            await client.close()
        }

        @Test("Ctrl-C stops zgrid watch --name after telling the broker the last event printed: the next one resumes there")
        func interruptedWatcherResumesAfterLastPrinted() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            // The default heartbeat: no keepalive acknowledgement is due in the moment before the signal.
            let heartbeat = HeartbeatSettings(intervalMilliseconds: 1000, liveness: 3)
            let broker = try startBroker(jobStore: directory.file("jobs.sqlite"), heartbeat: heartbeat)
            defer { broker.stop() }
            let worker = try await startWorker(broker, concurrency: 8) { worker in worker.register("noop") { _ in [] } }
            let config = directory.file("cluster.conf")
            try "[broker]\nconnect = \"\(broker.endpoints[0])\"\nlog_level = \"error\"\n".write(
                toFile: config, atomically: true, encoding: .utf8)
            let outputPath = directory.file("watch.out")
            _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
            let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
            defer { try? output.close() }
            let watcher = try launchZGrid(
                ["watch", "--name", "board", "--tag", "w", "--json", "--config", config], standardOutput: output)
            defer { endProcess(watcher) }
            func printed() -> [GridEvent] {
                (readText(outputPath) ?? "").split(separator: "\n").compactMap {
                    try? JSONDecoder().decode(GridEvent.self, from: Data($0.utf8))
                }
            }
            try await waitUntil("the watcher subscribed") { printed().contains { $0.kind == .subscribed } }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: heartbeat)
            for _ in 0..<20 { _ = try await client.submit("noop", options: JobOptions(tags: ["w"])) }
            try await waitUntil("every event printed") { printed().count(where: { $0.kind == .succeeded }) == 20 }
            kill(watcher.processIdentifier, SIGINT)
            #expect(try await waitForExit(watcher, seconds: 10))
            #expect(watcher.terminationReason == .exit && watcher.terminationStatus == 130)
            let lastPrinted = try #require(printed().last?.seq)
            var resumed = try client.events(matching: .tag("w"), name: "board").makeAsyncIterator()
            let subscribed = try await resumed.next()
            #expect(subscribed?.kind == .subscribed)
            #expect(subscribed?.seq == lastPrinted, "resumes after the last event printed, with nothing printed twice")
            await client.close()
            await worker.stop()
        }

        @Test("after a broker restart the stream resubscribes and replays from the log, seqs never reused")
        func resumeAfterBrokerRestart() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let endpoint = "tcp://127.0.0.1:\(try freePort())"
            var broker = try startBroker(endpoint: endpoint, jobStore: directory.file("jobs.sqlite"))
            let worker = try await startWorker(broker) { worker in worker.register("noop") { _ in [] } }
            let client = try GridClient(broker: endpoint, heartbeat: testHeartbeat)
            let collector = Collector(try client.events(matching: .everything))
            try await waitUntil("subscribed") { collector.snapshot.contains { $0.kind == .subscribed } }
            let before = try await client.submit("noop")
            _ = try await client.result(job: before, timeout: .seconds(5))
            try await waitUntil("events before the restart") { collector.kinds(of: before).contains(.succeeded) }
            broker.stop()
            broker = try startBroker(endpoint: endpoint, jobStore: directory.file("jobs.sqlite"))
            defer { broker.stop() }
            // Submitted by another client before the subscriber is back: replayed from the log.
            let other = try GridClient(broker: endpoint, heartbeat: testHeartbeat)
            try await waitUntil("worker back", seconds: 15) { broker.status.workers == 1 }
            let during = try await other.submit("noop")
            _ = try await other.result(job: during, timeout: .seconds(10))
            try await waitUntil("events after the restart", seconds: 15) { collector.kinds(of: during).contains(.succeeded) }
            let after = try await client.submit("noop")
            try await waitUntil("live again") { collector.kinds(of: after).contains(.succeeded) }
            let logged = collector.snapshot.filter { ![.subscribed, .lagged, .gap].contains($0.kind) }
            let seqs = logged.map(\.seq)
            #expect(seqs == seqs.sorted() && Set(seqs).count == seqs.count, "seqs rise strictly across the restart: \(seqs)")
            #expect(collector.kinds(of: during) == [.queued, .started, .succeeded])
            #expect(collector.kinds(of: before) == [.queued, .started, .succeeded])
            #expect(collector.snapshot.filter { $0.kind == .subscribed }.count >= 2, "subscribed again after the restart")
            #expect(collector.error == nil)
            await collector.stop()
            await client.close()
            await other.close()
            await worker.stop()
        }

        @Test("after a broker outage of several heartbeats the stream subscribes again once, not once per heartbeat missed")
        func oneResubscribeAfterOutage() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let endpoint = "tcp://127.0.0.1:\(try freePort())"
            var broker = try startBroker(endpoint: endpoint, jobStore: directory.file("jobs.sqlite"))
            let client = try GridClient(broker: endpoint, heartbeat: testHeartbeat)
            let collector = Collector(try client.events(matching: .everything))
            try await waitUntil("subscribed") { collector.snapshot.contains { $0.kind == .subscribed } }
            broker.stop()
            try await Task.sleep(for: .milliseconds(1500))  // 7 heartbeats, past the 800 ms expiry
            broker = try startBroker(endpoint: endpoint, jobStore: directory.file("jobs.sqlite"))
            defer { broker.stop() }
            try await waitUntil("subscribed again", seconds: 15) { collector.snapshot.count(where: { $0.kind == .subscribed }) >= 2 }
            try await Task.sleep(for: .milliseconds(1000))
            #expect(collector.snapshot.count(where: { $0.kind == .subscribed }) == 2)
            #expect(try await client.brokerStatus().counters["subscriptions_opened"] == 1, "one SUBSCRIBE reached the new broker")
            #expect(collector.error == nil)
            await collector.stop()
            await client.close()
        }

        @Test("a consumer that does not read gets at most its window, then one lagged event; others are not slowed")
        func laggedConsumer() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let broker = try startBroker(jobStore: directory.file("jobs.sqlite"))
            defer { broker.stop() }
            let worker = try await startWorker(broker) { worker in
                worker.register("noop") { _ in [] }
                worker.register("echo") { request in request.payload }
            }
            let slow = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let stream = try slow.events(matching: .function("noop"), window: 8)
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            var ids: [UInt64] = []
            for _ in 0..<20 { ids.append(try await client.submit("noop")) }
            for id in ids { _ = try await client.result(job: id, timeout: .seconds(10)) }
            // The slow consumer has not read a thing; calls still go through at once.
            #expect(try await client.call("echo", bytes("still fast"), timeout: .seconds(2)) == bytes("still fast"))
            var iterator = stream.makeAsyncIterator()
            var received: [GridEvent] = []
            while received.last?.kind != .lagged {
                guard let event = try await iterator.next() else { break }
                received.append(event)
            }
            let delivered = received.filter { $0.kind != .subscribed && $0.kind != .lagged }
            #expect(delivered.count == 8, "exactly the window was delivered before lagging")
            let lagged = try #require(received.last)
            #expect(lagged.kind == .lagged)
            #expect((lagged.missedFrom ?? 0) > (delivered.last?.seq ?? .max))
            #expect(lagged.missedTo == lagged.seq)
            // Live again after the lag: a new job's events arrive.
            let fresh = try await client.submit("noop")
            var freshKinds: [GridEventKind] = []
            var lateEvents = 0
            while !freshKinds.contains(.succeeded) {
                guard let event = try await iterator.next() else { break }
                if event.job == fresh { freshKinds.append(event.kind) }
                if let job = event.job, ids.contains(job) { lateEvents += 1 }
            }
            #expect(freshKinds == [.queued, .started, .succeeded])
            // Every event of the 20 jobs (3 each) was delivered, counted as missed, or (published
            // after the lag was reported: the last ones may still be on their way to the store
            // when the results are in) delivered after the lagged event.
            #expect(lateEvents <= 3, "only the last job's events can trail its result")
            #expect(
                delivered.count + (lagged.missed ?? 0) + lateEvents == 60,
                "20 jobs × 3 events: \(delivered.count) delivered, \(lagged.missed ?? 0) missed, \(lateEvents) after the lag")
            await slow.close()
            await client.close()
            await worker.stop()
        }

        @Test("a chatty handler's progress is coalesced: a few events, in order, the latest kept")
        func progressCoalescing() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let broker = try startBroker(jobStore: directory.file("jobs.sqlite"))
            defer { broker.stop() }
            let worker = try await startWorker(broker) { worker in
                worker.register("chatty") { request in
                    let start = ContinuousClock.now
                    var step = 0
                    while ContinuousClock.now - start < .milliseconds(1000) {
                        step += 1
                        request.progress(min(1, (ContinuousClock.now - start) / .milliseconds(1000)), "step \(step)")
                        try await Task.sleep(for: .milliseconds(1))
                    }
                    request.progress(1, "finished after \(step) steps")
                    return bytes("\(step)")
                }
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let collector = Collector(try client.events(matching: .function("chatty")))
            try await waitUntil("subscribed") { collector.snapshot.contains { $0.kind == .subscribed } }
            let id = try await client.submit("chatty")
            let steps = Int(String(decoding: try await client.result(job: id, timeout: .seconds(10)), as: UTF8.self)) ?? 0
            try await waitUntil("succeeded event") { collector.kinds(of: id).contains(.succeeded) }
            let progress = collector.snapshot.filter { $0.job == id && $0.kind == .progress }
            #expect(steps >= 100, "the handler reported \(steps) times")
            #expect(progress.count >= 2, "progress came through")
            #expect(progress.count <= 1000 / 250 + 3, "at most one per 250 ms interval: \(progress.count)")
            let fractions = progress.compactMap(\.fraction)
            #expect(fractions == fractions.sorted(), "in order: \(fractions)")
            #expect(fractions.allSatisfy { (0...1).contains($0) })
            #expect(broker.status.statistics.progressCoalesced + broker.status.statistics.progressPublished > 0)
            await collector.stop()
            await client.close()
            await worker.stop()
        }

        @Test("pool events: a worker joining, its function losing its last worker, the worker leaving")
        func poolEvents() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let collector = Collector(try client.events(matching: .poolEvents))
            try await waitUntil("subscribed") { collector.snapshot.contains { $0.kind == .subscribed } }
            let worker = try await startWorker(broker) { worker in worker.register("thumbnail") { _ in [] } }
            try await waitUntil("joined") { collector.snapshot.contains { $0.kind == .workerJoined } }
            await worker.stop()
            try await waitUntil("left") { collector.snapshot.contains { $0.kind == .workerLeft } }
            let kinds = collector.snapshot.map(\.kind)
            #expect(kinds == [.subscribed, .workerJoined, .noWorkers, .workerLeft])
            #expect(collector.snapshot.first { $0.kind == .noWorkers }?.function == "thumbnail")
            #expect(collector.snapshot.first { $0.kind == .workerJoined }?.message?.contains("thumbnail") == true)
            await collector.stop()
            await client.close()
        }

        /// Submits `count` jobs of `noop` through `submitter` at once and waits until each has
        /// succeeded, so that the event log holds their three events each; returns their ids.
        static func finishedNoopJobs(_ count: Int, _ submitter: GridClient) async throws -> [UInt64] {
            let ids = try await withThrowingTaskGroup(of: UInt64.self) { group in
                for _ in 0..<count { group.addTask { try await submitter.submit("noop") } }
                return try await group.reduce(into: [UInt64]()) { $0.append($1) }
            }
            for id in ids { _ = try await submitter.result(job: id, timeout: .seconds(20)) }
            return ids
        }
    }
}
