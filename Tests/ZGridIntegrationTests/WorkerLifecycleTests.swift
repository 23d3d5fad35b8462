import Foundation
import Testing
import ZGridClient
import ZGridWorker

extension IntegrationTests {
    @Suite("A worker's run and registrations", .serialized, .timeLimit(.minutes(1)))
    struct WorkerLifecycleTests {
        @Test("a function registered after run() started is not listed as served, and a second run() says a Worker runs once")
        func lateRegistrationAndSecondRun() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let running = try await startWorker(broker) { $0.register("echo") { $0.payload } }
            running.worker.register("late") { $0.payload }
            // READY named only echo: the worker must not claim to serve `late`.
            #expect(running.worker.functions == ["echo"])
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            #expect(try await client.call("echo", bytes("hi"), timeout: .seconds(5)) == bytes("hi"))
            await client.close()
            await running.stop()
            do {
                try await running.worker.run()
                Issue.record("a second run() served again")
            } catch {
                #expect(error == .alreadyRunning)
                #expect(error.description.contains("a Worker runs once"), "\(error.description)")
            }
        }
    }
}
