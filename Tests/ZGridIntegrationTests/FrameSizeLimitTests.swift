import Foundation
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZGridWorker
import ZeroMQ

extension IntegrationTests {
    @Suite("Frames over the broker's size limit are refused before they cost a connection", .serialized, .timeLimit(.minutes(2)))
    struct FrameSizeLimitTests {
        static let limit = 64 * 1024

        @Test("a new client holds a large payload until the broker has said its limit, and never sends a table over it")
        func freshClientKnowsTheLimit() async throws {
            let broker = try startBroker(maxMessageBytes: 2048)
            defer { broker.stop() }
            let longName = String(repeating: "e", count: 200)
            let worker = try await startWorker(broker, concurrency: 64) { worker in
                worker.register("echo") { $0.payload }
                worker.register(longName) { $0.payload }
            }
            // At once from a new client: one call over the limit, one just under it, one small.
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            async let small = client.call("echo", bytes("small"), timeout: .seconds(5))
            async let underLimit = client.call("echo", [UInt8](repeating: 3, count: 2000), timeout: .seconds(5))
            let started = ContinuousClock.now
            let over = await outcome { () async throws(GridError) in
                try await client.call("echo", [UInt8](repeating: 4, count: 4000), timeout: .seconds(5))
            }
            guard case .failure(.invalidArgument(let message)) = over else {
                Issue.record("expected invalidArgument, got \(over)")
                return
            }
            #expect(message.contains("max_message_bytes"))
            #expect(ContinuousClock.now - started < .seconds(2), "refused at once, not after its time limit")
            #expect(try await small == bytes("small"))
            #expect(try await underLimit.count == 2000)
            // 64 calls in flight with a 200-character name: about 15 KiB of request table, split
            // into CALLS whose tables fit in 2048 bytes.
            let outcomes = try await client.callEach(longName, (0..<64).map { [UInt8($0)] }, inFlight: 64, timeout: .seconds(5))
                .inInputOrder()
            for (index, result) in outcomes.enumerated() { #expect(try result.get() == [UInt8(index)]) }
            #expect(try await settledStatus(broker).statistics.workersLost == 0)
            await client.close()
            await worker.stop()
        }

        @Test("after a quick broker restart with a lower limit, large frames wait for the new limit")
        func restartWithLowerLimit() async throws {
            let endpoint = "tcp://127.0.0.1:\(try freePort())"
            let first = try startBroker(endpoint: endpoint)
            let client = try GridClient(broker: endpoint, heartbeat: testHeartbeat)
            var worker = try await startWorker(first) { $0.register("echo") { $0.payload } }
            #expect(try await client.call("echo", [UInt8](repeating: 1, count: 4000)).count == 4000, "under the first limit")
            // Restarted within a heartbeat expiry: the client never sees the broker fall silent.
            await worker.stop()
            first.stop()
            let second = try await restartBroker(endpoint: endpoint, maxMessageBytes: 2048)
            defer { second.stop() }
            worker = try await startWorker(second) { $0.register("echo") { $0.payload } }
            let started = ContinuousClock.now
            let large = await outcome { () async throws(GridError) in
                try await client.call("echo", [UInt8](repeating: 2, count: 4000), timeout: .seconds(5))
            }
            guard case .failure(.invalidArgument) = large else {
                Issue.record("expected invalidArgument from the new limit, got \(large)")
                return
            }
            #expect(ContinuousClock.now - started < .seconds(2))
            #expect(try await client.call("echo", bytes("small"), timeout: .seconds(5)) == bytes("small"))
            await client.close()
            await worker.stop()
        }

        @Test("a request held until the broker first answers keeps its own time limit")
        func heldRequestKeepsItsDeadline() async throws {
            let endpoint = "tcp://127.0.0.1:\(try freePort())"
            let client = try GridClient(broker: endpoint, heartbeat: testHeartbeat)
            // No broker yet: a frame over 1024 bytes waits for its limits, its clock running.
            let parts = try client.scatter("slow", [UInt8](repeating: 1, count: 2000), timeout: .milliseconds(1500))
            try await Task.sleep(for: .milliseconds(700))
            let broker = try startBroker(endpoint: endpoint)
            defer { broker.stop() }
            let worker = try await startWorker(broker) { worker in
                worker.register("slow") { request in
                    try await Task.sleep(for: .milliseconds(1200))
                    return request.payload
                }
            }
            // Sent with the 800 ms it has left, not a new 1500: the part times out in the broker.
            let gathered = await parts.gathered()
            #expect(gathered.replies.count == 0, "the part ran past the scatter's time limit")
            #expect(gathered.failures.values.allSatisfy { if case .timeout = $0 { true } else { false } }, "\(gathered.failures)")
            await client.close()
            await worker.stop()
        }

        /// Checks that `worker` still serves `echo` to `client` and was never lost by `broker`, then
        /// closes the client and stops the worker.
        private func expectWorkerUnharmed(_ broker: BrokerServer, _ client: GridClient, _ worker: RunningWorker) async throws {
            #expect(try await client.call("echo", bytes("still here")) == bytes("still here"))
            let status = try await settledStatus(broker)
            #expect(status.workers == 1)
            #expect(status.statistics.workersLost == 0)
            await client.close()
            await worker.stop()
        }

        @Test("a handler error whose message is over the broker's frame limit reaches the caller cut to fit, and the worker stays")
        func oversizedErrorMessageIsCut() async throws {
            let broker = try startBroker(maxMessageBytes: Self.limit)
            defer { broker.stop() }
            let worker = try await startWorker(broker) { worker in
                // Multi-byte characters, so that a cut in the middle of one would show.
                worker.register("complain") { _ in throw HandlerFailure(.handlerError, String(repeating: "é", count: Self.limit)) }
                worker.register("echo") { $0.payload }
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            #expect(try await client.call("echo", bytes("hello")) == bytes("hello"))
            // The limit travels in the broker's HEARTBEAT, sent every 200 ms.
            try await Task.sleep(for: .milliseconds(700))
            let result = await outcome { () async throws(GridError) in try await client.call("complain", timeout: .seconds(5)) }
            guard case .failure(.handlerError(let message)) = result else {
                Issue.record("expected the handler's error, got \(result)")
                return
            }
            #expect(message.utf8.count <= Self.limit && message.hasPrefix("éé") && message.hasSuffix("max_message_bytes)"), "\(message)")
            #expect(!message.contains("\u{FFFD}"), "a character was cut in two: \(message)")
            try await expectWorkerUnharmed(broker, client, worker)
        }

        @Test("an oversized payload fails at the client, an oversized result at the worker, and other calls are unharmed")
        func oversizedFramesAreRefused() async throws {
            let broker = try startBroker(maxMessageBytes: Self.limit)
            defer { broker.stop() }
            let worker = try await startWorker(broker) { worker in
                worker.register("echo") { $0.payload }
                worker.register("slow-echo") { request in
                    try await Task.sleep(for: .milliseconds(300))
                    return request.payload
                }
                worker.register("inflate") { _ in [UInt8](repeating: 7, count: Self.limit + 1) }
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            #expect(try await client.call("echo", bytes("hello")) == bytes("hello"))
            // The limit travels in the broker's HEARTBEAT, sent every 200 ms.
            try await Task.sleep(for: .milliseconds(700))

            let atLimit = [UInt8](repeating: 1, count: Self.limit)
            #expect(try await client.call("echo", atLimit) == atLimit, "a frame of exactly the limit passes")

            // Calls in flight on the same connection while an oversized one is refused.
            async let first = client.call("slow-echo", bytes("a"), timeout: .seconds(5))
            async let second = client.call("slow-echo", bytes("b"), timeout: .seconds(5))
            try await Task.sleep(for: .milliseconds(50))
            do {
                _ = try await client.call("echo", [UInt8](repeating: 2, count: Self.limit + 1), timeout: .seconds(5))
                Issue.record("expected invalidArgument")
            } catch {
                guard case .invalidArgument(let message) = error else { Issue.record("expected invalidArgument, got \(error)"); return }
                #expect(message.contains("\(Self.limit + 1) bytes") && message.contains("max_message_bytes"), "\(message)")
            }
            #expect(try await first == bytes("a"))
            #expect(try await second == bytes("b"))

            do {
                _ = try await client.call("inflate", timeout: .seconds(5))
                Issue.record("expected handlerError")
            } catch {
                guard case .handlerError(let message) = error else { Issue.record("expected handlerError, got \(error)"); return }
                #expect(message.contains("max_message_bytes"), "\(message)")
            }
            try await expectWorkerUnharmed(broker, client, worker)
        }
    }
}
