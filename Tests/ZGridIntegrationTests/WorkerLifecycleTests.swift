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

        @Test("a name registered twice, of any kind, makes run() throw before connecting, naming it")
        func duplicateRegistration() async throws {
            let twice: [(Worker) -> Void] = [
                { worker in
                    worker.register("resize") { $0.payload }
                    worker.register("resize") { _ in [] }
                },
                { worker in
                    worker.registerInline("resize") { $0.payload }
                    worker.registerBatch("resize", maxItems: 4, maxWait: .milliseconds(10)) { $0.map { .success($0.payload) } }
                },
            ]
            for register in twice {
                // No broker listens there: run() must throw before it connects.
                let worker = Worker(broker: "tcp://127.0.0.1:1", logger: quietLogger("test.worker"))
                worker.register("echo") { $0.payload }
                register(worker)
                // Without the check, run() would wait for that broker until stopped.
                let watchdog = Task {
                    try await Task.sleep(for: .seconds(5))
                    worker.stop()
                }
                defer { watchdog.cancel() }
                do {
                    try await worker.run()
                    Issue.record("run() served a name registered twice")
                } catch {
                    #expect(error == .duplicateFunction("resize"))
                    #expect(error.description.contains("'resize' was registered twice"), "\(error.description)")
                }
            }
        }
    }
}
