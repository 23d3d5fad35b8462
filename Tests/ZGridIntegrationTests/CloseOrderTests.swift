import Foundation
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol

extension IntegrationTests {
    @Suite("Closing the client", .serialized, .timeLimit(.minutes(2)))
    struct CloseOrderTests {
        @Test("a request that reaches the client's I/O thread after its close is failed as closed, not sent")
        func requestAfterCloseIsNotSent() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let observer = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            _ = try await client.brokerStatus()
            // Two tasks on the client's I/O thread, run one after the other in one pass of its loop:
            // the first closes the client, the second then subscribes (as a caller on another thread
            // that found the client open a moment before the close would). The loop reads the close
            // and the subscription together, in that order.
            let (closing, subscribing) = await withTaskExecutorPreference(client.executor) {
                let closing = Task(executorPreference: client.executor) { await client.close() }
                let subscribing = Task(executorPreference: client.executor) { try? client.events(matching: .poolEvents) }
                return (closing, subscribing)
            }
            let stream = await subscribing.value
            await closing.value
            if let events = stream {
                do {
                    for try await event in events { Issue.record("an event after the close: \(event)") }
                    Issue.record("the subscription ended without an error")
                } catch {
                    #expect(error as? GridError == .closed)
                }
            }
            // A SUBSCRIBE that went out would stay open at the broker until the client expired.
            try await Task.sleep(for: .milliseconds(300))
            let counters = try await observer.brokerStatus().counters
            #expect(counters["subscriptions_opened"] == 0, "the subscription made after the close reached the broker")
            await observer.close()
        }
    }
}
