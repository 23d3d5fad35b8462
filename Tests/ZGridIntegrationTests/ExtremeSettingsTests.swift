import Foundation
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZGridWorker

extension IntegrationTests {
    @Suite("Library settings with absurd values", .serialized, .timeLimit(.minutes(2)))
    struct ExtremeSettingsTests {
        @Test("heartbeat settings are clamped by the initialiser and on assignment, so the expiry cannot overflow")
        func heartbeatClamped() {
            let huge = HeartbeatSettings(intervalMilliseconds: .max, liveness: .max)
            #expect(huge.intervalMilliseconds == HeartbeatSettings.maxIntervalMilliseconds)
            #expect(huge.liveness == HeartbeatSettings.maxLiveness)
            #expect(huge.expiryMilliseconds == HeartbeatSettings.maxIntervalMilliseconds * HeartbeatSettings.maxLiveness)
            var assigned = HeartbeatSettings()
            assigned.intervalMilliseconds = .max
            assigned.liveness = .min
            #expect(assigned.intervalMilliseconds == HeartbeatSettings.maxIntervalMilliseconds)
            #expect(assigned.liveness == 1)
            #expect(assigned.expiryMilliseconds == HeartbeatSettings.maxIntervalMilliseconds)
        }

        @Test(
            "a broker, worker and client made with extreme durations (and counts) serve a call and a job without trapping",
            arguments: [Int64.max, .min])
        func extremeSettingsServe(_ value: Int64) async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            // The shortest heartbeat (1 ms, once) would lose every peer at once: only the longest is served with.
            let heartbeat = value > 0 ? HeartbeatSettings(intervalMilliseconds: value, liveness: value) : testHeartbeat
            let count = value > 0 ? Int.max : 1000
            let options = BrokerOptions(
                heartbeat: heartbeat, defaultTimeoutMilliseconds: value, unknownFunctionGraceMilliseconds: value,
                maxQueuedPerFunction: count, maxAttempts: count, jobReservePercent: value > 0 ? 25 : .min,
                defaultJobTimeLimitMilliseconds: value, defaultResultTTLMilliseconds: value, maxBackoffMilliseconds: value,
                maxResidentJobs: count, maxInFlightPerClient: count, maxJobsPerClient: count, progressIntervalMilliseconds: value,
                agingMilliseconds: value,
                functions: [
                    "echo": FunctionPolicy(
                        // At their shortest these would refuse or time out every call, as they should.
                        maxQueueWaitMilliseconds: value > 0 ? value : nil, timeLimitMilliseconds: value > 0 ? value : nil,
                        agingMilliseconds: value,
                        batchMaxWaitMilliseconds: Int(truncatingIfNeeded: value))
                ],
                shedding: SheddingPolicy(queuedCalls: count, callWaitMilliseconds: value, calmMilliseconds: value, sweepBatch: count))
            var configuration = BrokerConfiguration(
                endpoints: ["tcp://127.0.0.1:0"], options: options, maxFrames: value > 0 ? .max : .min,
                jobStorePath: directory.file("jobs.sqlite"))
            configuration.shutdownGraceMilliseconds = value
            #expect((0...SettingBounds.maxMilliseconds).contains(configuration.shutdownGraceMilliseconds))
            configuration.events = EventHubOptions(
                retentionMilliseconds: value, defaultWindow: count, maxWindow: count, inlineResultBytes: count,
                maxSubscriptionsPerClient: count, livenessMilliseconds: value)
            let broker = try BrokerServer.start(configuration, logger: quietLogger("test.broker"))
            defer { broker.stop() }
            let worker = Worker(
                broker: broker.endpoints[0], concurrency: count, heartbeat: heartbeat, drainTimeoutMilliseconds: value,
                stuckGraceMilliseconds: value, logger: quietLogger("test.worker"))
            worker.register("echo") { $0.payload }
            let task = Task { try await worker.run() }
            try await waitUntil("worker registered") { broker.status.workers == 1 }
            let client = try GridClient(
                broker: broker.endpoints[0], heartbeat: heartbeat, busyRetries: count, logger: quietLogger("test.client"))
            #expect(try await client.call("echo", bytes("hi"), timeout: .seconds(10)) == bytes("hi"))
            let id = try await client.submit("echo", bytes("job"), options: JobOptions(timeLimit: .seconds(10)))
            #expect(try await client.result(job: id, timeout: .seconds(10)) == bytes("job"))
            #expect(try await client.brokerStatus().workers.count == 1)
            await client.close()
            worker.stop()
            _ = await task.result
        }
    }
}
