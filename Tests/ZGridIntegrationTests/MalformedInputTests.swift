import Foundation
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZGridWorker
import ZeroMQ

extension IntegrationTests {
    @Suite("Malformed input is counted and dropped", .serialized, .timeLimit(.minutes(2)))
    struct MalformedInputTests {
        @Test("garbage from a raw socket is counted and dropped while good calls keep working")
        func garbageIsDropped() async throws {
            let broker = try startBroker(maxMessageBytes: 64 * 1024)
            defer { broker.stop() }
            let worker = try await startWorker(broker) { $0.register("echo") { $0.payload } }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            #expect(try await client.call("echo", bytes("first")) == bytes("first"))
            let endpoint = broker.endpoints[0]
            let badMessages: [[[UInt8]]] = [
                // wrong version
                [bytes("ZGC99"), [ClientCommand.call.rawValue], .bigEndian(UInt64(1)), bytes("echo"), CallHeader().encoded],
                [ProtocolTag.client],  // missing frames
                [ProtocolTag.client, [0x7f]],  // unknown command
                [ProtocolTag.client, [ClientCommand.call.rawValue], [1, 2, 3], bytes("echo"), CallHeader().encoded],  // short id
                [ProtocolTag.client, [ClientCommand.call.rawValue], .bigEndian(UInt64(2)), bytes("bad name"), CallHeader().encoded],
                [ProtocolTag.client, [ClientCommand.call.rawValue], .bigEndian(UInt64(3)), bytes("echo"), [1, 2]],  // short header
                [ProtocolTag.worker, [WorkerCommand.ready.rawValue], [0, 0, 0, 0], bytes("echo")],  // zero concurrency
                [ProtocolTag.worker, [WorkerCommand.error.rawValue], .bigEndian(UInt64(4)), [0, 99], bytes("x")],  // bad code
                Array(repeating: [1], count: 200),  // too many frames
                (0..<20).map { _ in (0..<40).map { _ in UInt8.random(in: 0...255) } },  // noise
            ]
            let sent = await onThread {
                guard let context = try? Context(), let socket = try? Socket(context, type: .dealer) else { return false }
                do {
                    try socket.connect(endpoint)
                    for message in badMessages { try socket.send(frames: message, blocking: true) }
                    try socket.setLinger(milliseconds: 1000)
                    return true
                } catch { return false }
            }
            #expect(sent)
            try await waitUntil("broker counted the malformed messages") {
                broker.status.statistics.malformedMessages >= badMessages.count
            }
            #expect(try await settledStatus(broker).statistics.malformedMessages == badMessages.count)
            let oversized = await onThread {
                guard let context = try? Context(), let socket = try? Socket(context, type: .dealer) else { return false }
                do {
                    try socket.connect(endpoint)
                    try socket.send(
                        frames: [
                            ProtocolTag.client, [ClientCommand.call.rawValue], .bigEndian(UInt64(9)), bytes("echo"),
                            CallHeader().encoded, [UInt8](repeating: 0, count: 1 << 20),
                        ], blocking: true)
                    try socket.setLinger(milliseconds: 1000)
                    return true
                } catch { return false }
            }
            #expect(oversized)
            try await Task.sleep(for: .milliseconds(200))
            #expect(try await client.call("echo", bytes("still here")) == bytes("still here"))
            #expect(try await settledCount(broker, \.callsReceived, reaching: 2) == 2, "the oversized call must not have been accepted")
            await client.close()
            await worker.stop()
        }

        @Test("replies and heartbeats from an unregistered worker are refused with DISCONNECT")
        func strangerIsToldToRegister() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let endpoint = broker.endpoints[0]
            let answer = await onThread { () -> [[UInt8]]? in
                guard let context = try? Context(), let socket = try? Socket(context, type: .dealer) else { return nil }
                do {
                    try socket.connect(endpoint)
                    try socket.send(
                        frames: [ProtocolTag.worker, [WorkerCommand.reply.rawValue], .bigEndian(UInt64(77)), bytes("late")], blocking: true)
                    var poller = Poller([socket.pollItem()])
                    try poller.poll(timeoutMilliseconds: 2000)
                    return poller.isReadable(0) ? try socket.receiveFrames(blocking: false) : nil
                } catch { return nil }
            }
            #expect(answer == [ProtocolTag.worker, [WorkerCommand.disconnect.rawValue]])
            #expect(try await settledStatus(broker).heldPayloads == 0)
        }
    }
}
