import Foundation
import Synchronization
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZGridWorker
import ZeroMQ

extension IntegrationTests {
    @Suite("Scatter/gather over shards and workers", .serialized, .timeLimit(.minutes(2)))
    struct ScatterTests {
        /// Counts requests per shard across workers.
        final class ShardLedger: Sendable {
            private let counts = Mutex<[Int: Int]>([:])
            func record(_ shard: Int?) { counts.withLock { $0[shard ?? -1, default: 0] += 1 } }
            var snapshot: [Int: Int] { counts.withLock { $0 } }
        }

        private func shardWorker(_ broker: BrokerServer, _ spec: String, ledger: ShardLedger, concurrency: Int = 4) async throws
            -> RunningWorker
        {
            guard case .success(let shards) = ShardSpec.parse(spec) else { throw LaunchError(message: "bad spec \(spec)") }
            return try await startWorker(broker, concurrency: concurrency) { worker in
                worker.register("search", shards: shards) { request in
                    ledger.record(request.shard)
                    try await Task.sleep(for: .milliseconds(5))
                    return bytes("shard \(request.shard ?? -1): \(String(decoding: request.payload, as: UTF8.self))")
                }
            }
        }

        @Test("a gather policy is satisfied by the broker's summary as it promises")
        func gatherPolicySatisfaction() {
            let partial = ScatterSummary(parts: 8, succeeded: 2, failed: 2)
            #expect(GatherPolicy.first(2).isSatisfied(by: partial))
            #expect(!GatherPolicy.first(3).isSatisfied(by: partial))
            #expect(!GatherPolicy.all.isSatisfied(by: partial))
            #expect(!GatherPolicy.quorum.isSatisfied(by: partial))
            #expect(GatherPolicy.quorum.isSatisfied(by: ScatterSummary(parts: 8, succeeded: 5, failed: 0)))
            #expect(!GatherPolicy.quorum.isSatisfied(by: ScatterSummary(parts: 8, succeeded: 4, failed: 4)))
            #expect(GatherPolicy.all.isSatisfied(by: ScatterSummary(parts: 3, succeeded: 3, failed: 0)))
            #expect(GatherPolicy.first(5).isSatisfied(by: ScatterSummary(parts: 3, succeeded: 3, failed: 0)), "first(n) over fewer parts")
        }

        @Test("a 16-shard scatter over 4 workers of concurrency 4 gets every shard exactly once")
        func everyShardOnce() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let ledger = ShardLedger()
            var workers: [RunningWorker] = []
            for spec in ["0-3/16", "4-7/16", "8-11/16", "12-15/16"] { workers.append(try await shardWorker(broker, spec, ledger: ledger)) }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            for round in 0..<3 {
                let result = try await client.scatter("search", bytes("q\(round)"), timeout: .seconds(5)).gathered()
                #expect(result.error == nil)
                #expect(result.summary == ScatterSummary(parts: 16, succeeded: 16, failed: 0))
                #expect(result.isComplete)
                #expect(result.parts.count == 16)
                #expect(Set(result.parts.map(\.index)) == Set(0..<16))
                for (index, reply) in result.replies { #expect(reply == bytes("shard \(index): q\(round)")) }
            }
            #expect(ledger.snapshot == Dictionary(uniqueKeysWithValues: (0..<16).map { ($0, 3) }))
            await client.close()
            for worker in workers { await worker.stop() }
        }

        @Test("a shard no worker holds yields a partial result saying why it is missing")
        func missingShard() async throws {
            let broker = try startBroker(graceMilliseconds: 200)
            defer { broker.stop() }
            let ledger = ShardLedger()
            let worker = try await shardWorker(broker, "0-5/8", ledger: ledger)
            try await Task.sleep(for: .milliseconds(250))
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let result = try await client.scatter("search", bytes("q"), timeout: .seconds(2)).gathered()
            #expect(result.summary == ScatterSummary(parts: 8, succeeded: 6, failed: 2))
            #expect(Set(result.replies.keys) == Set(0..<6))
            #expect(Set(result.failures.keys) == [6, 7])
            for (shard, error) in result.failures {
                #expect(error == .unknownFunction("no worker holds shard \(shard) of 'search'"))
            }
            #expect(!result.isComplete)
            await client.close()
            await worker.stop()
        }

        @Test("a shard whose worker has gone is reported as missing at the deadline")
        func shardLostBeforeDeadline() async throws {
            let broker = try startBroker(graceMilliseconds: 5_000)
            defer { broker.stop() }
            let ledger = ShardLedger()
            let first = try await shardWorker(broker, "0-1/4", ledger: ledger)
            let second = try await shardWorker(broker, "2-3/4", ledger: ledger)
            await second.stop()
            try await waitUntil("second worker gone") { broker.status.workers == 1 }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let result = try await client.scatter("search", bytes("q"), timeout: .milliseconds(400)).gathered()
            #expect(result.summary == ScatterSummary(parts: 4, succeeded: 2, failed: 2))
            #expect(result.failures[2] == .unknownFunction("no worker holds shard 2 of 'search'"))
            await client.close()
            await first.stop()
        }

        @Test("a replica dying mid-scatter is retried on another replica")
        func replicaRetry() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let endpoint = broker.endpoints[0]
            // A raw worker holding the only shard registers first, takes the part and vanishes.
            let took = Mutex(false)
            let fake = IOThread(name: "fake-replica") {
                guard let context = try? Context(), let socket = try? Socket(context, type: .dealer) else { return }
                do {
                    try socket.connect(endpoint)
                    try socket.send(
                        frames: [ProtocolTag.worker, [WorkerCommand.ready.rawValue], .bigEndian(UInt32(4)), bytes("search:0/1")],
                        blocking: true)
                    var poller = Poller([socket.pollItem()])
                    let deadline = Date().addingTimeInterval(10)
                    while Date() < deadline {
                        try socket.send(frames: [ProtocolTag.worker, [WorkerCommand.heartbeat.rawValue]])
                        try poller.poll(timeoutMilliseconds: 50)
                        guard poller.isReadable(0), let frames = try socket.receiveFrames(blocking: false) else { continue }
                        if frames.count >= 2, frames[1] == [WorkerCommand.request.rawValue] {
                            took.withLock { $0 = true }
                            return
                        }
                    }
                } catch {}
            }
            try await waitUntil("fake replica registered") { broker.status.workers == 1 }
            let ledger = ShardLedger()
            let client = try GridClient(broker: endpoint, heartbeat: testHeartbeat)
            let stream = try client.scatter("search", bytes("q"), timeout: .seconds(8))
            let gathering = Task { await stream.gathered() }
            try await waitUntil("fake took the part") { took.withLock { $0 } }
            let real = try await shardWorker(broker, "0/1", ledger: ledger)
            let result = await gathering.value
            #expect(result.summary == ScatterSummary(parts: 1, succeeded: 1, failed: 0))
            #expect(result.replies[0] == bytes("shard 0: q"))
            #expect(ledger.snapshot == [0: 1])
            #expect(try await settledCount(broker, \.callsRetried, reaching: 1) == 1)
            fake.wait()
            await client.close()
            await real.stop()
        }

        @Test("a parallel map sends each input to the workers and returns each reply at its index")
        func parallelMap() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let workers = [
                try await startWorker(broker) {
                    $0.register("square") { request in
                        bytes(
                            "\(Int(String(decoding: request.payload, as: UTF8.self))! * Int(String(decoding: request.payload, as: UTF8.self))!)"
                        )
                    }
                },
                try await startWorker(broker) {
                    $0.register("square") { request in
                        bytes(
                            "\(Int(String(decoding: request.payload, as: UTF8.self))! * Int(String(decoding: request.payload, as: UTF8.self))!)"
                        )
                    }
                },
            ]
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let inputs = (0..<40).map { bytes("\($0)") }
            var seen: [Int: [UInt8]] = [:]
            for try await part in try client.scatter("square", inputs: inputs) {
                #expect(seen[part.index] == nil, "part \(part.index) arrived twice")
                seen[part.index] = try part.result.get()
            }
            #expect(seen == Dictionary(uniqueKeysWithValues: (0..<40).map { ($0, bytes("\($0 * $0)")) }))
            await client.close()
            for worker in workers { await worker.stop() }
        }

        @Test("first N stops after N successes and a plain function's scatter reaches every worker")
        func firstNAndBroadcast() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let names = ["a", "b", "c"]
            var workers: [RunningWorker] = []
            for name in names {
                workers.append(try await startWorker(broker) { $0.register("whoami") { _ in bytes(name) } })
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let everyone = try await client.scatter("whoami", []).gathered()
            #expect(Set(everyone.replies.values.map { String(decoding: $0, as: UTF8.self) }) == Set(names))
            let two = try await client.scatter("whoami", [], gather: .first(2)).gathered()
            #expect(two.summary?.succeeded == 2)
            #expect(two.summary?.parts == 3)
            let quorum = try await client.scatter("whoami", [], gather: .quorum).gathered()
            #expect(quorum.summary?.succeeded == 2)
            let nobody = try await client.scatter("nobody-home", []).gathered()
            #expect(nobody.error == .unknownFunction("no worker serves function 'nobody-home'"))
            await client.close()
            for worker in workers { await worker.stop() }
        }

        @Test("cancelling the task gathering a scatter says cancelled, not a finished scatter with parts missing")
        func cancelledGatherSaysSo() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let started = Mutex(0)
            let worker = try await startWorker(broker) { worker in
                worker.register("search", shards: ShardSpec(sortedIndices: [0, 1], total: 2)) { request in
                    started.withLock { $0 += 1 }
                    if request.shard == 0 { return bytes("fast") }
                    try await Task.sleep(for: .seconds(30))
                    return bytes("slow")
                }
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let stream = try client.scatter("search", bytes("q"), timeout: .seconds(20))
            let gathering = Task { await stream.gathered() }
            try await waitUntil("both parts running") { started.withLock { $0 } == 2 }
            gathering.cancel()
            let result = await gathering.value
            #expect(result.error == .cancelled, "a cancelled gather is not a scatter that ended: \(String(describing: result.error))")
            #expect(result.summary == nil)
            let iterating = Task {
                var parts = 0
                do {
                    for try await _ in try client.scatter("search", bytes("q"), timeout: .seconds(20)) {
                        parts += 1
                        withUnsafeCurrentTask { $0?.cancel() }
                    }
                    return "ended after \(parts) parts"
                } catch {
                    return "\(error)"
                }
            }
            #expect(await iterating.value == "\(GridError.cancelled)")
            await client.close()
            await worker.stop()
        }

        @Test("a wide scatter whose parts end together delivers every part the broker counts")
        func wideScatterDeliversEveryPart() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            // Inline handlers answer at once, so many parts end in one pass of the broker's loop:
            // more than one message of 256 frames can carry.
            let worker = try await startWorker(broker, concurrency: 1024) { worker in
                worker.registerInline("wide", shards: ShardSpec(sortedIndices: Array(0..<1024), total: 1024)) { request in
                    request.payload
                }
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            for _ in 0..<3 {
                let result = await (try client.scatter("wide", bytes("w"), timeout: .seconds(10))).gathered()
                #expect(result.summary == ScatterSummary(parts: 1024, succeeded: 1024, failed: 0))
                #expect(result.parts.count == 1024, "every part the summary counts arrived")
                #expect(result.replies.count == 1024 && result.replies.keys.allSatisfy { (0..<1024).contains($0) })
            }
            await client.close()
            await worker.stop()
        }
    }
}
