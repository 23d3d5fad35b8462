import Foundation
import Testing
import ZGridClient
import ZGridProtocol

extension IntegrationTests.BrokerRestartClientTests {
    @Test("a request held while the connection is down ends as cancelled as soon as its task is cancelled")
    func heldRequestEndsWhenCancelled() async throws {
        let broker = try startBroker()
        // The default heartbeat (a 3 s expiry): the request is cancelled well before its hold expires.
        let client = try GridClient(broker: broker.endpoints[0])
        _ = try await client.brokerStatus()
        broker.stop()
        try await Task.sleep(for: .milliseconds(300))  // the client notices the drop
        try await expectCancelled { () async throws(GridError) in try await client.status(job: 1) }
        await client.close()
    }

    @Test("a large submit held until a broker says its limits ends as cancelled as soon as its task is cancelled")
    func heldLargeSubmitEndsWhenCancelled() async throws {
        // No broker: the submit's payload is over the frame size every broker takes, so the client
        // holds it (up to the submit's 30 s limit) until a broker says its limit.
        let client = try GridClient(broker: "tcp://127.0.0.1:\(try freePort())")
        try await expectCancelled { () async throws(GridError) in try await client.submit("echo", [UInt8](repeating: 7, count: 4096)) }
        await client.close()
    }

    /// Runs `request` in a task, cancels the task a moment later, and expects the request to end
    /// as cancelled (and not at its hold's end, as a timeout or an unreachable broker).
    func expectCancelled<T: Sendable>(_ request: @escaping @Sendable () async throws(GridError) -> T) async throws {
        let task = Task { await outcome(request) }
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        let result = await task.value
        guard case .failure(.cancelled) = result else {
            Issue.record("expected cancelled, got \(result)")
            return
        }
    }
}
