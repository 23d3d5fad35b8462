import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZGridWorker

extension IntegrationTests {
    @Suite("Workers that disagree on a sharded function's total", .serialized, .timeLimit(.minutes(2)))
    struct ShardTotalTests {
        /// Makes a worker holding `spec` of "search" (each reply naming the shard and the total) and runs it.
        func shardWorker(_ broker: BrokerServer, _ spec: String, log: CapturedLog? = nil) throws -> RunningWorker {
            guard case .success(let shards) = ShardSpec.parse(spec) else { throw LaunchError(message: "bad spec \(spec)") }
            let worker = Worker(
                broker: broker.endpoints[0], concurrency: 4, heartbeat: testHeartbeat,
                logger: log?.logger("worker") ?? quietLogger("test.worker"))
            worker.register("search", shards: shards) { request in bytes("\(request.shard ?? -1)/\(shards.total)") }
            return RunningWorker(worker: worker, task: Task { try await worker.run() })
        }

        @Test("a stray worker with another total is refused, saying why, and registers once the old total is gone")
        func strayTotalIsRefused() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let first = try shardWorker(broker, "0-3/4")
            try await waitUntil("first worker registered") { broker.status.workers == 1 }
            let log = CapturedLog()
            let stray = try shardWorker(broker, "0-7/8", log: log)
            try await waitUntil("stray worker refused") { broker.status.statistics.workersRefused >= 1 }
            try await waitUntil("the stray worker logged why") { log.text.contains("the broker refused this worker") }
            #expect(log.text.contains("announces 'search' with 8 shards, but the registered workers of 'search' hold 4"), "\(log.text)")
            #expect(broker.status.workers == 1)

            // Scatters keep the first total: every part from one partition.
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let result = try await client.scatter("search", bytes("q"), timeout: .seconds(5)).gathered()
            #expect(result.summary == ScatterSummary(parts: 4, succeeded: 4, failed: 0))
            for (shard, reply) in result.replies { #expect(reply == bytes("\(shard)/4")) }

            // Once no worker holds the old total, the refused worker (retrying after its backoff) gets in.
            await first.stop()
            try await waitUntil("stray worker registered", seconds: 30) {
                broker.status.workers == 1 && broker.status.statistics.workersJoined == 2
            }
            let after = try await client.scatter("search", bytes("q"), timeout: .seconds(5)).gathered()
            #expect(after.summary == ScatterSummary(parts: 8, succeeded: 8, failed: 0))
            for (shard, reply) in after.replies { #expect(reply == bytes("\(shard)/8")) }
            await client.close()
            await stray.stop()
        }
    }
}
