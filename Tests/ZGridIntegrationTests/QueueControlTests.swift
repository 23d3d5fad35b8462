import Foundation
import Synchronization
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZGridWorker
import ZeroMQ

extension IntegrationTests {
    @Suite(
        "Queue control: priorities with aging, fairness, admission, shedding, superseding, time limits", .serialized,
        .timeLimit(.minutes(3)))
    struct QueueControlTests {
        /// A broker with queue-control options and a job store in `directory`.
        func broker(_ options: BrokerOptions, _ directory: TemporaryDirectory) throws -> BrokerServer {
            var options = options
            options.heartbeat = testHeartbeat
            var configuration = BrokerConfiguration(
                endpoints: ["tcp://127.0.0.1:0"], options: options, jobStorePath: directory.file("jobs.sqlite"))
            configuration.shutdownGraceMilliseconds = 500
            return try BrokerServer.start(configuration, logger: quietLogger("test.broker"))
        }

        /// A flag shared with flooding tasks.
        final class Flag: Sendable {
            private let value = Atomic<Bool>(true)
            var isSet: Bool { value.load(ordering: .relaxed) }
            func clear() { value.store(false, ordering: .relaxed) }
        }

        /// Records what ran, in order, with when it started.
        final class RunOrder: Sendable {
            private let runs = Mutex<[(name: String, at: ContinuousClock.Instant)]>([])
            func record(_ name: String) { runs.withLock { $0.append((name, .now)) } }
            var names: [String] { runs.withLock { $0.map(\.name) } }
            var count: Int { runs.withLock { $0.count } }
        }

        @Test("queued calls run highest priority first, and aging bounds a low-priority call's wait under a flood")
        func priorityAndAging() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let broker = try broker(BrokerOptions(agingMilliseconds: 100), directory)
            defer { broker.stop() }
            let order = RunOrder()
            let worker = try await startWorker(broker, concurrency: 1) { worker in
                worker.register("work") { request in
                    let text = String(decoding: request.payload, as: UTF8.self)
                    let parts = text.split(separator: ":")
                    order.record(String(parts[0]))
                    try await Task.sleep(for: .milliseconds(Int(parts[1]) ?? 10))
                    return request.payload
                }
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            // Occupy the only slot, then queue three calls in the order low, high, mid.
            async let blocker = client.call("work", bytes("block:300"))
            try await waitUntil("blocker running") { order.count == 1 }
            async let low = client.call("work", bytes("low:1"), priority: 0)
            try await Task.sleep(for: .milliseconds(20))
            async let high = client.call("work", bytes("high:1"), priority: 9)
            try await Task.sleep(for: .milliseconds(20))
            async let mid = client.call("work", bytes("mid:1"), priority: 5)
            _ = try await (blocker, low, high, mid)
            #expect(order.names == ["block", "high", "mid", "low"])

            // Aging: a flood of priority-9 calls keeps the worker busy for 3 s; a priority-0 call
            // sent into it must still run within about 9 aging steps (0.9 s), long before the flood ends.
            let flooding = Flag()
            let flood = Task {
                await withTaskGroup(of: Void.self) { group in
                    for _ in 0..<3 {
                        group.addTask {
                            while flooding.isSet { _ = try? await client.call("work", bytes("flood:20"), priority: 9) }
                        }
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(200))
            let sent = ContinuousClock.now
            _ = try await client.call("work", bytes("old:1"), timeout: .seconds(10), priority: 0)
            let waited = ContinuousClock.now - sent
            let floodRunsAfter = Task { try await Task.sleep(for: .milliseconds(300)) }
            _ = await floodRunsAfter.result
            let after = order.names.suffix(5)
            flooding.clear()
            await flood.value
            #expect(waited < .milliseconds(2000), "the low-priority call waited \(waited)")
            #expect(after.contains("flood"), "the flood was still running after the low-priority call: \(after)")
            await client.close()
            await worker.stop()
        }

        @Test("fairness keys take turns: one key's backlog delays another key's job by at most one round")
        func fairnessKeys() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let broker = try broker(BrokerOptions(), directory)
            defer { broker.stop() }
            let order = RunOrder()
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            // Queue the backlog before any worker exists, so it all waits.
            try await withThrowingTaskGroup(of: UInt64.self) { group in
                for index in 0..<200 {
                    group.addTask { try await client.submit("tenant", bytes("big-\(index)"), options: JobOptions(fairnessKey: "big")) }
                }
                try await group.waitForAll()
            }
            _ = try await client.submit("tenant", bytes("small"), options: JobOptions(fairnessKey: "small"))
            let worker = try await startWorker(broker, concurrency: 1) { worker in
                worker.register("tenant") { request in
                    order.record(String(decoding: request.payload, as: UTF8.self))
                    try await Task.sleep(for: .milliseconds(2))
                    return []
                }
            }
            try await waitUntil("small ran") { order.names.contains("small") }
            let position = try #require(order.names.firstIndex(of: "small"))
            #expect(position <= 1, "the small key's job ran at position \(position) behind a 200-job backlog")
            await client.close()
            await worker.stop()
        }

        @Test("admission control answers BUSY with a retry-after time; the client retries, and nothing refused is kept")
        func admissionControl() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let broker = try broker(
                BrokerOptions(
                    functions: [
                        "slow": FunctionPolicy(maxQueued: 2), "bulk": FunctionPolicy(maxQueuedJobs: 3),
                        "burst": FunctionPolicy(maxQueuedJobs: 3),
                    ]), directory)
            defer { broker.stop() }
            let worker = try await startWorker(broker, concurrency: 1) { worker in
                worker.register("slow") { _ in
                    try await Task.sleep(for: .milliseconds(150))
                    return bytes("ok")
                }
            }
            let impatient = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat, busyRetries: 0)
            let patient = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat, busyRetries: 10)
            // One runs, two queue, the fourth is refused at once with a retry-after time.
            let running = (0..<3).map { _ in Task { try await impatient.call("slow", timeout: .seconds(5)) } }
            try await waitUntil("two queued") { broker.status.callsInFlight == 3 }
            let refused = await outcome { () async throws(GridError) in try await impatient.call("slow", timeout: .seconds(5)) }
            guard case .failure(.busy(let message, let retryAfter)) = refused else {
                Issue.record("the fourth call was not refused BUSY: \(refused)")
                return
            }
            #expect(retryAfter != nil && retryAfter! >= .milliseconds(50), "retry after \(String(describing: retryAfter))")
            #expect(message.contains("'slow'"))
            // A patient client is refused too, but retries after the hinted time and gets through.
            #expect(try await patient.call("slow", timeout: .seconds(10)) == bytes("ok"))
            for task in running { #expect(try await task.value == bytes("ok")) }

            // Jobs: admission happens before the job is acknowledged.
            for _ in 0..<3 { _ = try await impatient.submit("bulk") }
            let refusedJob = await outcome { () async throws(GridError) in try await impatient.submit("bulk") }
            guard case .failure(.busy(_, let jobRetryAfter)) = refusedJob else {
                Issue.record("the fourth job was not refused BUSY: \(refusedJob)")
                return
            }
            #expect(jobRetryAfter != nil)
            #expect(try await impatient.jobs(JobQuery(function: "bulk")).count == 3, "the refused job was not stored")
            // A burst of SUBMITs sent together: those not yet committed count against the limit too.
            let burst = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        do {
                            _ = try await impatient.submit("burst")
                            return true
                        } catch { return false }
                    }
                }
                return await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            #expect(burst == 3, "\(burst) of 20 concurrent submits accepted against a limit of 3")
            #expect(try await impatient.jobs(JobQuery(function: "burst")).count == 3)
            #expect(broker.status.statistics.admissionRefusals >= 2)
            await impatient.close()
            await patient.close()
            await worker.stop()
        }

        @Test("under overload sheddable low-priority jobs are deferred, then swept back and all complete")
        func sheddingAndSweep() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let broker = try broker(
                BrokerOptions(shedding: SheddingPolicy(queuedCalls: 2, callWaitMilliseconds: 30, maxPriority: 3, calmMilliseconds: 300)),
                directory)
            defer { broker.stop() }
            let worker = try await startWorker(broker, concurrency: 2) { worker in
                worker.register("slow") { _ in
                    try await Task.sleep(for: .milliseconds(60))
                    return []
                }
                worker.register("bulk") { _ in [] }
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let collector = EventTests.Collector(try client.events(matching: .function("bulk")))
            try await waitUntil("subscribed") { collector.snapshot.contains { $0.kind == .subscribed } }
            let flooding = Flag()
            let flood = Task {
                await withTaskGroup(of: Void.self) { group in
                    for _ in 0..<8 {
                        group.addTask { while flooding.isSet { _ = try? await client.call("slow", timeout: .seconds(10)) } }
                    }
                }
            }
            try await waitUntil("overloaded") { broker.status.callsInFlight >= 6 }
            var sheddable: [UInt64] = []
            var kept: [UInt64] = []
            for _ in 0..<20 { sheddable.append(try await client.submit("bulk", options: JobOptions(priority: 1, sheddable: true))) }
            for _ in 0..<5 { kept.append(try await client.submit("bulk", options: JobOptions(priority: 1))) }
            try await waitUntil("jobs deferred") { !collector.snapshot.filter { $0.kind == .deferred }.isEmpty }
            let deferredNow = try await client.jobs(JobQuery(states: ["deferred"], function: "bulk"))
            #expect(!deferredNow.isEmpty, "deferred jobs show in the job list")
            try await Task.sleep(for: .milliseconds(300))
            flooding.clear()
            await flood.value
            for id in sheddable + kept { _ = try await client.result(job: id, timeout: .seconds(15)) }
            let deferredIDs = Set(collector.snapshot.filter { $0.kind == .deferred }.compactMap(\.job))
            #expect(!deferredIDs.isEmpty && deferredIDs.isSubset(of: Set(sheddable)), "only sheddable jobs were deferred")
            #expect(broker.status.statistics.jobsDeferred == deferredIDs.count)
            #expect(broker.status.statistics.jobsSwept == deferredIDs.count, "every deferred job was swept back")
            await collector.stop()
            await client.close()
            await worker.stop()
        }

        @Test("a replace key supersedes the queued job; a unique key coalesces")
        func supersedeAndCoalesce() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let broker = try broker(BrokerOptions(), directory)
            defer { broker.stop() }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let first = try await client.submit("digest", bytes("v1"), options: JobOptions(replaceKey: "user-7:digest"))
            let second = try await client.submit("digest", bytes("v2"), options: JobOptions(replaceKey: "user-7:digest"))
            let earlier = try await client.status(job: first)
            #expect(earlier.state == "cancelled")
            #expect(earlier.lastError == "superseded by job \(second)")
            #expect(try await client.status(job: second).state == "queued")
            let unique = try await client.submit("digest", bytes("a"), options: JobOptions(uniqueKey: "once"))
            #expect(try await client.submit("digest", bytes("b"), options: JobOptions(uniqueKey: "once")) == unique)
            let ran = RunOrder()
            let worker = try await startWorker(broker) { worker in
                worker.register("digest") { request in
                    ran.record(String(decoding: request.payload, as: UTF8.self))
                    return []
                }
            }
            _ = try await client.result(job: second, timeout: .seconds(5))
            _ = try await client.result(job: unique, timeout: .seconds(5))
            #expect(ran.names.sorted() == ["a", "v2"], "the superseded and the coalesced submit never ran")
            await client.close()
            await worker.stop()
        }

        @Test("a function's time limit caps the time limit a call asks for")
        func functionTimeLimit() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let broker = try broker(BrokerOptions(functions: ["report": FunctionPolicy(timeLimitMilliseconds: 200)]), directory)
            defer { broker.stop() }
            let worker = try await startWorker(broker) { worker in
                worker.register("report") { _ in
                    try await Task.sleep(for: .seconds(5))
                    return []
                }
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let started = ContinuousClock.now
            await #expect(throws: GridError.self) { try await client.call("report", timeout: .seconds(10)) }
            #expect(ContinuousClock.now - started < .seconds(3), "failed at the function's 200 ms limit, not the call's 10 s")
            await client.close()
            await worker.stop()
        }

        @Test("jobs sharing a batch key reach a batch-capable worker as batches, and each gets its own result")
        func batchesEndToEnd() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let broker = try broker(BrokerOptions(), directory)
            defer { broker.stop() }
            let sizes = Mutex<[Int]>([])
            let worker = try await startWorker(broker, concurrency: 2) { worker in
                worker.registerBatch("index", maxItems: 4, maxWait: .milliseconds(100)) { items in
                    sizes.withLock { $0.append(items.count) }
                    return items.map { item in
                        let text = String(decoding: item.payload, as: UTF8.self)
                        guard text != "poison" else { return .failure(HandlerFailure(.handlerError, "cannot index \(item.job)")) }
                        return .success(bytes("indexed \(text)"))
                    }
                }
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            var ids: [UInt64] = []
            try await withThrowingTaskGroup(of: (Int, UInt64).self) { group in
                for index in 0..<10 {
                    group.addTask {
                        let id = try await client.submit("index", bytes("doc-\(index)"), options: JobOptions(batchKey: "shard-1"))
                        return (index, id)
                    }
                }
                var byIndex: [Int: UInt64] = [:]
                for try await (index, id) in group { byIndex[index] = id }
                ids = (0..<10).map { byIndex[$0]! }
            }
            let poison = try await client.submit("index", bytes("poison"), options: JobOptions(maxAttempts: 1, batchKey: "shard-1"))
            for (index, id) in ids.enumerated() {
                #expect(try await client.result(job: id, timeout: .seconds(5)) == bytes("indexed doc-\(index)"))
            }
            await #expect(throws: GridError.self) { try await client.result(job: poison, timeout: .seconds(5)) }
            #expect(try await client.status(job: poison).state == "dead")
            let seen = sizes.withLock { $0 }
            #expect(seen.reduce(0, +) == 11, "every job ran exactly once: \(seen)")
            #expect(seen.contains { $0 > 1 }, "jobs were batched: \(seen)")
            #expect(seen.allSatisfy { $0 <= 4 }, "no batch beyond its limit: \(seen)")
            #expect(broker.status.statistics.batchesDispatched == seen.count, "each handler run was one batch REQUEST")
            await client.close()
            await worker.stop()
        }
    }
}
