import Synchronization
import Testing
import ZGridBroker
import ZGridClient
import ZGridWorker

extension IntegrationTests.QueueControlTests {
    @Test("a client tries a refused call again at most busyRetries times, and not past the call's time limit")
    func busyRetriesAsDocumented() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let broker = try broker(BrokerOptions(functions: ["slow": FunctionPolicy(maxQueued: 1)]), directory)
        defer { broker.stop() }
        let open = Mutex(false)
        let worker = try await startWorker(broker, concurrency: 1) { worker in
            worker.register("slow") { _ in
                while !open.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
                return bytes("ok")
            }
        }
        let holder = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
        let held = (0..<2).map { _ in Task { try await holder.call("slow", timeout: .seconds(30)) } }
        let admin = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
        func refusals() async throws -> Int { try await admin.brokerStatus().counters["admission_refusals"] ?? -1 }
        for _ in 0..<500 where try await admin.brokerStatus().functions.first(where: { $0.name == "slow" })?.queuedCalls != 1 {
            try await Task.sleep(for: .milliseconds(10))
        }
        // Nothing drains yet: each refusal says 1 s; two tries again, then the BUSY is thrown.
        let patient = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat, busyRetries: 2)
        let before = try await refusals()
        let refused = await outcome { () async throws(GridError) in try await patient.call("slow", timeout: .seconds(20)) }
        guard case .failure(.busy(_, let retryAfter)) = refused else { throw TestTimeout(what: "BUSY, not \(refused)") }
        #expect(retryAfter == .seconds(1))
        #expect(try await refusals() == before + 3, "the first try and two more")
        // A time limit shorter than the least pause (0.5 × 1 s) leaves no room to try again.
        let hurried = await outcome { () async throws(GridError) in try await patient.call("slow", timeout: .milliseconds(300)) }
        guard case .failure(.busy) = hurried else { throw TestTimeout(what: "BUSY, not \(hurried)") }
        #expect(try await refusals() == before + 4)
        open.withLock { $0 = true }
        for task in held { #expect(try await task.value == bytes("ok")) }
        for client in [holder, admin, patient] { await client.close() }
        await worker.stop()
    }
}
