import Foundation
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZeroMQ

extension IntegrationTests.InFlightLimitTests {
    @Test("a client without inFlightLimit keeps within the limit its broker says: 500 concurrent calls past a limit of 50 all succeed")
    func adoptsAnnouncedLimit() async throws {
        let broker = try startBroker(maxInFlightPerClient: 50)
        defer { broker.stop() }
        let worker = try await startWorker(broker, concurrency: 64) { worker in
            worker.register("slow") { request in
                try await Task.sleep(for: .milliseconds(5))
                return request.payload
            }
        }
        // No retries: a call refused BUSY would fail.
        let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat, busyRetries: 0)
        let failures = await withTaskGroup(of: String?.self) { group in
            for index in 0..<500 {
                group.addTask {
                    let result = await outcome { () async throws(GridError) in
                        try await client.call("slow", bytes("\(index)"), timeout: .seconds(60))
                    }
                    return result == .success(bytes("\(index)")) ? nil : "\(result)"
                }
            }
            return await group.reduce(into: [String]()) { if let failure = $1 { $0.append(failure) } }
        }
        #expect(failures.count == 0, "\(failures.count) failed, first: \(String(describing: failures.first))")
        let statistics = try await settledStatus(broker).statistics
        #expect(statistics.admissionRefusals == 0)
        #expect(statistics.callsSucceeded == 500)
        await client.close()
        await worker.stop()
    }

    @Test("a broker whose HEARTBEAT does not say its limit (an earlier one) is taken to have 10,000: 100 calls all go out")
    func earlierBrokerKeepsDefault() async throws {
        let context = try Context()
        let router = try Socket(context, type: .router)
        try router.bind("tcp://127.0.0.1:0")
        let client = try GridClient(broker: try router.lastEndpoint(), heartbeat: testHeartbeat, busyRetries: 0)
        let calls = (0..<100).map { index in
            Task { await outcome { () async throws(GridError) in try await client.call("echo", [UInt8(index)], timeout: .seconds(20)) } }
        }
        // The "broker" answers each HEARTBEAT with the frame limits but no limit of calls in flight,
        // and takes the CALLs without answering them.
        var received = 0
        let deadline = Date().addingTimeInterval(10)
        while received < 100 && Date() < deadline {
            guard let frames = try router.receiveFrames(blocking: false), frames.count > 2 else {
                try await Task.sleep(for: .milliseconds(10))
                continue
            }
            if frames[2] == [ClientCommand.heartbeat.rawValue] {
                let limits: [[UInt8]] = [.bigEndian(UInt32(1000)), .bigEndian(UInt32(1 << 20))]
                _ = try router.send(frames: [frames[0], ProtocolTag.client, [ClientCommand.heartbeat.rawValue]] + limits)
            } else if frames[2] == [ClientCommand.call.rawValue] {
                received += 1
            } else if frames[2] == [ClientCommand.calls.rawValue] {
                received += frames.count - 4  // identity, tag, command, request table, then one payload each
            }
        }
        #expect(received == 100)
        for call in calls { call.cancel() }
        await client.close()
    }
}
