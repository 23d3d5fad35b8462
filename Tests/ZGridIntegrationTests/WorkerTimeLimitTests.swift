import Foundation
import Synchronization
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZGridWorker
import ZeroMQ

extension IntegrationTests {
    @Suite("Time limits enforced by the worker", .serialized, .timeLimit(.minutes(2)))
    struct WorkerTimeLimitTests {
        /// Starts a worker with a short stuck grace period on `broker`, waiting until it registered.
        func startLimitedWorker(
            _ broker: BrokerServer, concurrency: Int, stuckGraceMilliseconds: Int64 = 300, _ setup: (Worker) -> Void
        ) async throws -> RunningWorker {
            let before = broker.status.statistics.workersJoined
            let worker = Worker(
                broker: broker.endpoints[0], concurrency: concurrency, heartbeat: testHeartbeat, drainTimeoutMilliseconds: 5_000,
                stuckGraceMilliseconds: stuckGraceMilliseconds, logger: quietLogger("test.worker"))
            setup(worker)
            let task = Task { try await worker.run() }
            try await waitUntil("worker registered") { broker.status.statistics.workersJoined > before }
            return RunningWorker(worker: worker, task: task)
        }

        /// A handler that blocks its thread for `seconds` without ever looking at cancellation.
        @Sendable static func ignoreCancellation(for seconds: Double) {
            let end = Date().addingTimeInterval(seconds)
            while Date() < end { Thread.sleep(forTimeInterval: 0.01) }
        }

        @Test("a cooperative handler is cancelled at its time limit, the caller gets a timeout and the slot frees up")
        func cooperativeHandlerIsCancelled() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let sawCancellation = Mutex(false)
            let worker = try await startLimitedWorker(broker, concurrency: 1) { worker in
                worker.register("nap") { _ in
                    do {
                        try await Task.sleep(for: .seconds(10))
                    } catch is CancellationError {
                        sawCancellation.withLock { $0 = true }
                    }
                    return bytes("woke up")
                }
                worker.register("echo") { $0.payload }
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let started = Date()
            do {
                _ = try await client.call("nap", timeout: .milliseconds(300))
                Issue.record("the call should have timed out")
            } catch {
                guard case .timeout = error else {
                    Issue.record("expected a timeout, got \(error)")
                    return
                }
            }
            #expect(Date().timeIntervalSince(started) < 2)
            try await waitUntil("the handler saw its cancellation", seconds: 3) { sawCancellation.withLock { $0 } }
            // The only slot is free again: the next call runs at once.
            #expect(try await client.call("echo", bytes("next"), timeout: .seconds(3)) == bytes("next"))
            #expect(worker.worker.stuckHandlers == 0)
            await client.close()
            await worker.stop()
        }

        @Test("a stuck grace of Int64.max milliseconds turns the stuck check off: a call cancelled at its limit leaves the worker serving")
        func endlessStuckGrace() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let worker = try await startLimitedWorker(broker, concurrency: 1, stuckGraceMilliseconds: .max) { worker in
                worker.register("nap") { request in
                    try await Task.sleep(for: .seconds(10))
                    return request.payload
                }
                worker.register("echo") { $0.payload }
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            await #expect(throws: GridError.self) { _ = try await client.call("nap", timeout: .milliseconds(300)) }
            // The grace period's end was computed past Int64.max: the worker's I/O thread trapped.
            #expect(try await client.call("echo", bytes("still here"), timeout: .seconds(5)) == bytes("still here"))
            #expect(worker.worker.stuckHandlers == 0)
            await client.close()
            await worker.stop()
        }

        @Test("a stuck grace of 0 is raised to 1 ms, so a handler is never counted as stuck in the pass that cancels it")
        func zeroStuckGrace() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let worker = try await startLimitedWorker(broker, concurrency: 1, stuckGraceMilliseconds: 0) { worker in
                worker.register("echo") { $0.payload }
            }
            // At 0 a handler counted as stuck in the pass that cancelled it, and a one-slot worker
            // stopped at its first time-out. Whether a handler then ends within 1 ms depends on the
            // machine's load, so only the raised grace is checked here.
            #expect(worker.worker.stuckGraceMilliseconds == 1)
            await worker.stop()
        }

        @Test("a worker whose only slot is held by a handler that ignores cancellation stops serving and throws")
        func allSlotsStuckStopsTheWorker() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let worker = try await startLimitedWorker(broker, concurrency: 1) { worker in
                worker.register("spin") { request in
                    Self.ignoreCancellation(for: 3)
                    return request.payload
                }
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let started = Date()
            await #expect(throws: GridError.self) { _ = try await client.call("spin", timeout: .milliseconds(300)) }
            let result = await worker.task.result
            #expect(Date().timeIntervalSince(started) < 2.5, "the worker should give up before the handler ends")
            #expect(throws: WorkerError.allSlotsStuck(1)) { try result.get() }
            #expect(worker.worker.stuckHandlers == 1)
            // It said goodbye: the broker no longer counts it.
            try await waitUntil("the broker dropped the worker") { broker.status.workers == 0 }
            await client.close()
        }

        /// Two calls of `slow` at once, each answered with its own payload.
        func callSlowTwice(_ client: GridClient) async throws {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<2 {
                    group.addTask {
                        let reply = try await client.call("slow", bytes("\(index)"), timeout: .seconds(5))
                        #expect(reply == bytes("\(index)"))
                    }
                }
                try await group.waitForAll()
            }
        }

        @Test("with two slots and one stuck handler the worker keeps serving on the other slot")
        func oneStuckSlotOfTwo() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let gauge = ConcurrencyGauge()
            let spun = Counter()
            let worker = try await startLimitedWorker(broker, concurrency: 2) { worker in
                worker.register("spin") { request in
                    // Long enough that the first phase ends before it, even on a loaded machine.
                    Self.ignoreCancellation(for: 4)
                    spun.increment()
                    return request.payload
                }
                worker.register("slow") { request in
                    gauge.enter()
                    defer { gauge.leave() }
                    try await Task.sleep(for: .milliseconds(300))
                    return request.payload
                }
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            await #expect(throws: GridError.self) { _ = try await client.call("spin", timeout: .milliseconds(200)) }
            try await waitUntil("the handler counted as stuck", seconds: 3) { worker.worker.stuckHandlers == 1 }
            // One slot left: calls still run, one at a time.
            try await callSlowTwice(client)
            #expect(spun.count == 0, "the stuck handler was still running during the first phase")
            #expect(gauge.peak == 1)
            // Once the stuck handler ends at last, its slot serves again: two calls run at once.
            try await waitUntil("the stuck handler ended", seconds: 10) { spun.count == 1 }
            try await Task.sleep(for: .milliseconds(100))
            try await callSlowTwice(client)
            #expect(gauge.peak == 2)
            #expect(worker.worker.stuckHandlers == 1)
            await client.close()
            await worker.stop()
            await #expect(throws: Never.self) { try await worker.task.value }
        }

        @Test("without a CANCEL from the broker the worker answers TIMEOUT itself, replacing the handler's late result")
        func workerAnswersTimeoutItself() async throws {
            let raw = try RawBroker()
            let (worker, _) = try await startWorker(on: raw, concurrency: 1) { worker in
                worker.register("nap") { _ in
                    try? await Task.sleep(for: .seconds(10))
                    return bytes("late result")
                }
            }
            let started = Date()
            await raw.request(1, "nap", header: CallHeader(timeoutMilliseconds: 200), [bytes("x")])
            let answer = WorkerAnswer(await raw.next())
            #expect(Date().timeIntervalSince(started) < 1.5)
            #expect(answer?.id == 1)
            #expect(answer?.error?.code == .timeout)
            #expect(answer?.error?.message == "'nap' did not finish within its time limit")
            await worker.stop()
        }

        @Test("a request with time limit 0 has no worker-side limit")
        func zeroMeansNoLimit() async throws {
            let raw = try RawBroker()
            let (worker, _) = try await startWorker(on: raw, concurrency: 1) { worker in
                worker.register("nap") { request in
                    try await Task.sleep(for: .milliseconds(400))
                    return request.payload
                }
            }
            await raw.request(2, "nap", header: CallHeader(timeoutMilliseconds: 0), [bytes("rested")])
            let answer = WorkerAnswer(await raw.next())
            #expect(answer?.command == .reply)
            #expect(answer?.frames == [bytes("rested")])
            await worker.stop()
        }

        @Test("after CANCEL the slot stays occupied until the handler's task ends")
        func cancelKeepsTheSlotUntilTheTaskEnds() async throws {
            let raw = try RawBroker()
            let (worker, _) = try await startWorker(on: raw, concurrency: 1) { worker in
                worker.register("spin") { request in
                    Self.ignoreCancellation(for: 1)
                    return request.payload
                }
                worker.register("echo") { $0.payload }
            }
            await raw.request(3, "spin", header: CallHeader(timeoutMilliseconds: 0), [bytes("spun")])
            try await Task.sleep(for: .milliseconds(100))
            await raw.send([[WorkerCommand.cancel.rawValue], .bigEndian(UInt64(3))])
            try await Task.sleep(for: .milliseconds(50))
            await raw.request(4, "echo", header: CallHeader(timeoutMilliseconds: 0), [bytes("hi")])
            let busy = WorkerAnswer(await raw.next())
            #expect(busy?.id == 4)
            #expect(busy?.error?.code == .busy)
            // Nothing is sent for the cancelled request before its task ends (about 1 s after it started).
            let late = WorkerAnswer(await raw.next())
            #expect(late?.id == 3)
            #expect(late?.command == .reply)
            #expect(worker.worker.stuckHandlers == 0)
            await raw.request(5, "echo", header: CallHeader(timeoutMilliseconds: 0), [bytes("again")])
            let echoed = WorkerAnswer(await raw.next())
            #expect(echoed?.id == 5)
            #expect(echoed?.frames == [bytes("again")])
            await worker.stop()
        }

        @Test(
            "a handler that ignores the broker's CANCEL past the grace period is stuck; with every slot stuck the worker sends DISCONNECT and throws"
        )
        func stuckAfterCancel() async throws {
            let raw = try RawBroker()
            let (worker, _) = try await startWorker(on: raw, concurrency: 1, stuckGraceMilliseconds: 200) { worker in
                worker.register("spin") { request in
                    Self.ignoreCancellation(for: 2)
                    return request.payload
                }
            }
            await raw.request(6, "spin", header: CallHeader(timeoutMilliseconds: 0), [])
            try await Task.sleep(for: .milliseconds(100))
            let started = Date()
            await raw.send([[WorkerCommand.cancel.rawValue], .bigEndian(UInt64(6))])
            let goodbye = await raw.next()
            #expect(goodbye == [ProtocolTag.worker, [WorkerCommand.disconnect.rawValue]])
            let result = await worker.task.result
            #expect(Date().timeIntervalSince(started) < 1.5)
            #expect(throws: WorkerError.allSlotsStuck(1)) { try result.get() }
            #expect(worker.worker.stuckHandlers == 1)
        }

        @Test("an inline handler answers at once, before a CANCEL for it arrives; a batch REQUEST for a plain function is refused")
        func inlineHandlerAnswersFirst() async throws {
            let raw = try RawBroker()
            let (worker, _) = try await startWorker(on: raw, concurrency: 1) { worker in
                worker.registerInline("quick") { request in request.payload.reversed() }
                worker.register("plain") { $0.payload }
            }
            await raw.request(7, "quick", header: CallHeader(timeoutMilliseconds: 1), [bytes("abc")])
            await raw.send([[WorkerCommand.cancel.rawValue], .bigEndian(UInt64(7))])
            let answer = WorkerAnswer(await raw.next())
            #expect(answer?.id == 7)
            #expect(answer?.command == .reply)
            #expect(answer?.frames == [bytes("cba")])
            var batch = CallHeader(timeoutMilliseconds: 0)
            batch.isBatch = true
            for (id, function) in [(UInt64(8), "quick"), (9, "plain")] {
                await raw.request(id, function, header: batch, [bytes("x")])
                let refused = WorkerAnswer(await raw.next())
                #expect(refused?.id == id)
                #expect(refused?.error?.code == .malformed)
                #expect(refused?.error?.message == "'\(function)' is not a batch function on this worker")
            }
            // The CANCEL for the answered request changed nothing: the single slot still serves.
            await raw.request(10, "plain", header: CallHeader(timeoutMilliseconds: 0), [bytes("still")])
            #expect(WorkerAnswer(await raw.next())?.frames == [bytes("still")])
            await worker.stop()
        }
    }
}
