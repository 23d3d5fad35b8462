import Synchronization
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZGridWorker

extension IntegrationTests {
    @Suite("Calls past the broker's limit of calls in flight per client wait in the client")
    struct InFlightLimitTests {
        @Test("20,000 concurrent calls over one client with the default limits all succeed, none refused BUSY")
        func burstPastDefaultLimit() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let worker = try await startWorker(broker, concurrency: 64) { worker in
                worker.register("echo") { $0.payload }
            }
            // No retries: a call refused BUSY would fail.
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat, busyRetries: 0)
            let count = 20_000
            let failures = await withTaskGroup(of: String?.self) { group in
                for index in 0..<count {
                    group.addTask {
                        let result = await outcome { () async throws(GridError) in
                            try await client.call("echo", bytes("\(index)"), timeout: .seconds(60))
                        }
                        return result == .success(bytes("\(index)")) ? nil : "\(result)"
                    }
                }
                return await group.reduce(into: [String]()) { if let failure = $1 { $0.append(failure) } }
            }
            #expect(failures.isEmpty, "\(failures.count) failed, first: \(String(describing: failures.first))")
            #expect(try await settledCount(broker, \.callsSucceeded, reaching: count) == count)
            let statistics = try await settledStatus(broker).statistics
            #expect(statistics.admissionRefusals == 0)
            #expect(statistics.callsReceived == count)
            await client.close()
            await worker.stop()
        }

        @Test("calls, callEach runs and scatters share the client's budget: with a small limit all succeed, none refused")
        func sharedBudget() async throws {
            let (broker, worker, client) = try await slowGrid(limit: 4, milliseconds: 2)
            defer { broker.stop() }
            let run = try client.callEach("slow", (0..<150).map { bytes("each-\($0)") }, inFlight: 10, timeout: .seconds(60))
            let failures = await withTaskGroup(of: String?.self) { group in
                for index in 0..<300 {
                    group.addTask {
                        do {
                            _ = try await client.call("slow", bytes("call-\(index)"), timeout: .seconds(60))
                            return nil
                        } catch { return "call: \(error)" }
                    }
                }
                for index in 0..<20 {
                    group.addTask {
                        let inputs = (0..<3).map { bytes("map-\(index)-\($0)") }
                        let result = await (try? client.scatter("slow", inputs: inputs, timeout: .seconds(60)))?.gathered()
                        return result?.replies.count == 3 ? nil : "scatter: \(String(describing: result?.error))"
                    }
                }
                return await group.reduce(into: [String]()) { if let failure = $1 { $0.append(failure) } }
            }
            #expect(failures.isEmpty, "\(failures.count) failed, first: \(failures.first ?? "")")
            let outcomes = try await run.inInputOrder()
            #expect(outcomes.count == 150 && outcomes.allSatisfy { (try? $0.get()) != nil })
            #expect(try await settledStatus(broker).statistics.admissionRefusals == 0)
            await client.close()
            await worker.stop()
        }

        @Test("calls that wait for room go out in the order they were made")
        func order() async throws {
            let broker = try startBroker(maxInFlightPerClient: 1)
            defer { broker.stop() }
            let seen = Mutex<[String]>([])
            let worker = try await startWorker(broker, concurrency: 4) { worker in
                worker.register("record") { request in
                    seen.withLock { $0.append(String(decoding: request.payload, as: UTF8.self)) }
                    return request.payload
                }
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat, busyRetries: 0, inFlightLimit: 1)
            // Tasks on the client's own thread run, and so make their calls, in the order they were
            // started.
            let calls = (0..<200).map { index in
                Task(executorPreference: client.executor) { try await client.call("record", bytes("\(index)"), timeout: .seconds(60)) }
            }
            for call in calls { _ = try await call.value }
            #expect(seen.withLock { $0 } == (0..<200).map { "\($0)" })
            #expect(try await settledStatus(broker).statistics.admissionRefusals == 0)
            await client.close()
            await worker.stop()
        }

        /// A broker and a client whose limits of calls in flight are `limit` (no BUSY retried), and a
        /// worker of `concurrency` serving `function` with `handler`.
        func limitedGrid(
            limit: Int, concurrency: Int, _ function: String, _ handler: @escaping WorkerHandler
        ) async throws -> (BrokerServer, RunningWorker, GridClient) {
            let broker = try startBroker(maxInFlightPerClient: limit)
            let worker = try await startWorker(broker, concurrency: concurrency) { $0.register(function, handler) }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat, busyRetries: 0, inFlightLimit: limit)
            return (broker, worker, client)
        }

        /// ``limitedGrid(limit:concurrency:_:_:)`` serving `gated`, which answers its payload once
        /// `gate` opens.
        func gatedGrid(limit: Int) async throws -> (BrokerServer, Gate, RunningWorker, GridClient) {
            let gate = Gate()
            let (broker, worker, client) = try await limitedGrid(limit: limit, concurrency: 2 * limit, "gated") { request in
                await gate.wait()
                return request.payload
            }
            return (broker, gate, worker, client)
        }

        /// ``limitedGrid(limit:concurrency:_:_:)`` serving `slow`, which answers its payload after
        /// `milliseconds`.
        func slowGrid(limit: Int, milliseconds: Int) async throws -> (BrokerServer, RunningWorker, GridClient) {
            try await limitedGrid(limit: limit, concurrency: 16, "slow") { request in
                try await Task.sleep(for: .milliseconds(milliseconds))
                return request.payload
            }
        }

        @Test("a call or scatter cancelled while it waits for room fails as cancelled at once and is never sent")
        func cancelledWhileWaiting() async throws {
            let (broker, gate, worker, client) = try await gatedGrid(limit: 2)
            defer { broker.stop() }
            let first = (0..<2).map { index in
                Task { await outcome { () async throws(GridError) in try await client.call("gated", [UInt8(index)]) } }
            }
            try await waitUntil("the first two calls run") { broker.status.statistics.callsReceived == 2 }
            let waiting = (0..<10).map { index in
                Task { await outcome { () async throws(GridError) in try await client.call("gated", [UInt8(index)]) } }
            }
            let scatter = Task { await (try? client.scatter("gated", inputs: [[1], [2]]))?.gathered() }
            try await Task.sleep(for: .milliseconds(100))
            for call in waiting[..<5] { call.cancel() }
            scatter.cancel()
            for call in waiting[..<5] {
                let result = await call.value
                guard case .failure(.cancelled) = result else {
                    Issue.record("expected cancelled, got \(result)")
                    continue
                }
            }
            let gathered = await scatter.value
            #expect(gathered?.error == .cancelled, "\(String(describing: gathered))")
            // Still nothing else reached the broker: the gate is shut.
            let before = try await settledStatus(broker).statistics
            #expect(before.callsReceived == 2 && before.scattersReceived == 0 && before.callsCancelled == 0)

            gate.open()
            for call in first + waiting[5...] { #expect((try? await call.value.get()) != nil) }
            let after = try await settledStatus(broker).statistics
            #expect(after.callsReceived == 7 && after.scattersReceived == 0 && after.callsCancelled == 0)
            #expect(after.admissionRefusals == 0)
            await client.close()
            await worker.stop()
        }

        @Test("a call that waits for room all its time limit fails as a timeout that says so, and is never sent")
        func timedOutWhileWaiting() async throws {
            let (broker, gate, worker, client) = try await gatedGrid(limit: 1)
            defer { broker.stop() }
            let first = Task { try await client.call("gated", [1], timeout: .seconds(30)) }
            try await waitUntil("the first call runs") { broker.status.statistics.callsReceived == 1 }
            let result = await outcome { () async throws(GridError) in try await client.call("gated", [2], timeout: .milliseconds(300)) }
            guard case .failure(.timeout(let message)) = result else {
                Issue.record("expected a timeout, got \(result)")
                return
            }
            #expect(
                message.contains("'gated' did not finish within its time limit") && message.contains("waited in the client"), "\(message)")
            gate.open()
            _ = try await first.value
            // Room opened after the timed-out call ended: it was not sent then either.
            #expect(try await client.call("gated", [3]) == [3])
            let statistics = try await settledStatus(broker).statistics
            #expect(statistics.callsReceived == 2 && statistics.admissionRefusals == 0)
            await client.close()
            await worker.stop()
        }
    }
}
