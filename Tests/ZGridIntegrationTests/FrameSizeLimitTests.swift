import Foundation
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZGridWorker
import ZeroMQ

extension IntegrationTests {
    @Suite("Frames over the broker's size limit are refused before they cost a connection", .serialized, .timeLimit(.minutes(2)))
    struct FrameSizeLimitTests {
        static let limit = 64 * 1024

        @Test("an oversized payload fails at the client, an oversized result at the worker, and other calls are unharmed")
        func oversizedFramesAreRefused() async throws {
            let broker = try startBroker(maxMessageBytes: Self.limit)
            defer { broker.stop() }
            let worker = try await startWorker(broker) { worker in
                worker.register("echo") { $0.payload }
                worker.register("slow-echo") { request in
                    try await Task.sleep(for: .milliseconds(300))
                    return request.payload
                }
                worker.register("inflate") { _ in [UInt8](repeating: 7, count: Self.limit + 1) }
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            #expect(try await client.call("echo", bytes("hello")) == bytes("hello"))
            // The limit travels in the broker's HEARTBEAT, sent every 200 ms.
            try await Task.sleep(for: .milliseconds(700))

            let atLimit = [UInt8](repeating: 1, count: Self.limit)
            #expect(try await client.call("echo", atLimit) == atLimit, "a frame of exactly the limit passes")

            // Calls in flight on the same connection while an oversized one is refused.
            async let first = client.call("slow-echo", bytes("a"), timeout: .seconds(5))
            async let second = client.call("slow-echo", bytes("b"), timeout: .seconds(5))
            try await Task.sleep(for: .milliseconds(50))
            do {
                _ = try await client.call("echo", [UInt8](repeating: 2, count: Self.limit + 1), timeout: .seconds(5))
                Issue.record("expected invalidArgument")
            } catch {
                guard case .invalidArgument(let message) = error else { Issue.record("expected invalidArgument, got \(error)"); return }
                #expect(message.contains("\(Self.limit + 1) bytes") && message.contains("max_message_bytes"), "\(message)")
            }
            #expect(try await first == bytes("a"))
            #expect(try await second == bytes("b"))

            do {
                _ = try await client.call("inflate", timeout: .seconds(5))
                Issue.record("expected handlerError")
            } catch {
                guard case .handlerError(let message) = error else { Issue.record("expected handlerError, got \(error)"); return }
                #expect(message.contains("max_message_bytes"), "\(message)")
            }
            #expect(try await client.call("echo", bytes("still here")) == bytes("still here"))
            let status = try await settledStatus(broker)
            #expect(status.workers == 1)
            #expect(status.statistics.workersLost == 0)
            await client.close()
            await worker.stop()
        }
    }
}
