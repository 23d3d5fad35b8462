import Foundation
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZGridWorker

extension IntegrationTests {
    @Suite("A burst of cancelled calls", .serialized, .timeLimit(.minutes(2)))
    struct CancelBurstTests {
        @Test("thousands of calls cancelled at once each get their worker's answer: every slot is free again")
        func cancelledBurstFreesEverySlot() async throws {
            let calls = 3000
            let broker = try startBroker()
            defer { broker.stop() }
            let started = Counter()
            let cancelled = Counter()
            // Handlers on the worker's I/O thread: the cancels of one burst end them all in one
            // pass, whose thousands of answers go out together.
            let worker = try await startWorker(broker, concurrency: calls) { worker in
                worker.register("long", execution: .ioThread) { _ in
                    started.increment()
                    do { try await Task.sleep(for: .seconds(60)) } catch {
                        cancelled.increment()
                        throw error
                    }
                    return []
                }
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let calling = Task {
                await withTaskGroup(of: Void.self) { group in
                    for _ in 0..<calls { group.addTask { _ = try? await client.call("long", timeout: .seconds(60)) } }
                }
            }
            try await waitUntil("every handler runs", seconds: 30) { started.count == calls }
            calling.cancel()
            await calling.value
            try await waitUntil("every handler was cancelled", seconds: 30) { cancelled.count == calls }
            // The broker frees a slot when the worker answers the cancelled call: a lost answer
            // would keep the slot taken for good.
            var inFlight = -1
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                inFlight = try await client.brokerStatus().workers.map(\.inFlight).reduce(0, +)
                if inFlight == 0 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(inFlight == 0, "slots still taken on the worker after every call was cancelled")
            await client.close()
            await worker.stop()
        }
    }
}
