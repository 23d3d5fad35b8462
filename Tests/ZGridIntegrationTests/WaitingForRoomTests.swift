import Foundation
import Synchronization
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZeroMQ

extension IntegrationTests.InFlightLimitTests {
    @Test("closing the client fails the calls, scatters and runs waiting for room as closed, unsent")
    func closeWhileWaiting() async throws {
        let (broker, gate, worker, client) = try await gatedGrid(limit: 2)
        defer { broker.stop() }
        let first = (0..<2).map { index in
            Task { await outcome { () async throws(GridError) in try await client.call("gated", [UInt8(index)]) } }
        }
        try await waitUntil("the first two calls run") { broker.status.statistics.callsReceived == 2 }
        let waiting = (0..<2000).map { index in
            Task { await outcome { () async throws(GridError) in try await client.call("gated", bytes("\(index)")) } }
        }
        let scatter = Task { await (try? client.scatter("gated", inputs: [[1], [2]]))?.gathered() }
        let run = try client.callEach("gated", (0..<50).map { [UInt8($0)] })
        try await Task.sleep(for: .milliseconds(200))
        await client.close()
        for call in first + waiting {
            let result = await call.value
            #expect(result == .failure(.closed), "\(result)")
        }
        #expect(await scatter.value?.error == .closed)
        await #expect(throws: GridError.closed) { _ = try await run.inInputOrder() }
        let statistics = try await settledStatus(broker).statistics
        #expect(statistics.callsReceived == 2 && statistics.scattersReceived == 0)
        gate.open()
        await worker.stop()
    }

    @Test("thousands of calls with a third cancelled at random: the rest succeed, none refused BUSY")
    func cancellationsMixed() async throws {
        let (broker, worker, client) = try await slowGrid(limit: 20, milliseconds: 1)
        defer { broker.stop() }
        let calls = (0..<3000).map { index in
            Task { await outcome { () async throws(GridError) in try await client.call("slow", bytes("\(index)"), timeout: .seconds(60)) } }
        }
        for (index, call) in calls.enumerated() where index % 3 == 0 {
            if index % 30 == 0 { try await Task.sleep(for: .milliseconds(1)) }
            call.cancel()
        }
        for (index, call) in calls.enumerated() {
            let result = await call.value
            if index % 3 == 0 {
                #expect(result == .success(bytes("\(index)")) || result == .failure(.cancelled), "\(index): \(result)")
            } else {
                #expect(result == .success(bytes("\(index)")), "\(index): \(result)")
            }
        }
        #expect(try await settledStatus(broker).statistics.admissionRefusals == 0)
        // The client's count of calls in flight came back to zero: a burst past the limit goes out.
        let again = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<100 { group.addTask { (try? await client.call("slow", [UInt8(index)], timeout: .seconds(60))) != nil } }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(again == 100)
        await client.close()
        await worker.stop()
    }
}

extension IntegrationTests.BrokerRestartClientTests {
    @Test("calls waiting for room when the connection drops and does not come back fail within the expiry, unsent")
    func waitingForRoomBrokerGone() async throws {
        let context = try Context()
        var router: Socket? = try Socket(context, type: .router)
        try router!.bind("tcp://127.0.0.1:0")
        let endpoint = try router!.lastEndpoint()
        // An expiry of 800 ms, and time limits of several expiries.
        let client = try GridClient(broker: endpoint, heartbeat: testHeartbeat, busyRetries: 0, inFlightLimit: 1)
        let first = Task { await outcome { () async throws(GridError) in try await client.call("echo", [0], timeout: .seconds(20)) } }
        // The "broker" answers the client's HEARTBEAT, so the client has heard a broker, and takes the
        // CALL (which may come first, on a slow machine before the client's first HEARTBEAT).
        var calls = 0
        var answered = false
        let deadline = Date().addingTimeInterval(5)
        while (calls == 0 || !answered) && Date() < deadline {
            guard let frames = try router!.receiveFrames(blocking: false), frames.count > 2 else {
                try await Task.sleep(for: .milliseconds(10))
                continue
            }
            if frames[2] == [ClientCommand.heartbeat.rawValue] {
                _ = try router!.send(frames: [frames[0], ProtocolTag.client, [ClientCommand.heartbeat.rawValue]])
                answered = true
            } else if frames[2] == [ClientCommand.call.rawValue] {
                calls += 1
            }
        }
        #expect(calls == 1)
        #expect(answered)
        let waiting = (1...20).map { index in
            Task { await outcome { () async throws(GridError) in try await client.call("echo", [UInt8(index)], timeout: .seconds(6)) } }
        }
        try await Task.sleep(for: .milliseconds(200))
        router = nil
        _ = await first.value
        for (index, call) in waiting.enumerated() {
            let result = await call.value
            guard case .failure(.brokerUnreachable(let message)) = result else {
                Issue.record("call \(index + 1): expected broker unreachable, got \(result)")
                continue
            }
            #expect(message.contains("the request was not sent"), "\(message)")
        }
        await client.close()
    }
}
