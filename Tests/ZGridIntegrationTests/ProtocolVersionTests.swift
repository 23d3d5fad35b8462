import Foundation
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZeroMQ

/// A raw ROUTER socket playing a broker of another protocol version: it answers every message
/// with a HEARTBEAT under the tag `tag`'s sub-protocol letters and version 02.
final class OtherVersionBroker: @unchecked Sendable {
    // @unchecked: the socket is used by one thread at a time, in ``answer(seconds:)``.
    let endpoint: String
    private let socket: Socket

    init() throws {
        let context = try Context()
        socket = try Socket(context, type: .router)
        try socket.bind("tcp://127.0.0.1:0")
        endpoint = try socket.lastEndpoint()
    }

    /// Answers every message that arrives within `seconds`, each in version 02 of its own
    /// sub-protocol (`ZGC02` to `ZGC01`, `ZGW02` to `ZGW01`).
    func answer(seconds: Double) async {
        await onThread {
            let deadline = Date().addingTimeInterval(seconds)
            var poller = Poller([self.socket.pollItem()])
            while Date() < deadline {
                guard (try? poller.poll(timeoutMilliseconds: 50)) != nil, poller.isReadable(0) else { continue }
                guard let frames = try? self.socket.receiveFrames(blocking: false), frames.count >= 3, frames[1].count == 5 else {
                    continue
                }
                let tag = Array(frames[1].prefix(3)) + bytes("02")
                _ = try? self.socket.send(frames: [frames[0], tag, [ClientCommand.heartbeat.rawValue]])
            }
        }
    }
}

extension IntegrationTests {
    @Suite("Peers of another protocol version", .serialized, .timeLimit(.minutes(2)))
    struct ProtocolVersionTests {
        /// What the broker answers `message` from a raw DEALER socket within 2 s.
        private func answer(of endpoint: String, to message: [[UInt8]]) async -> [[UInt8]]? {
            await onThread { () -> [[UInt8]]? in
                guard let context = try? Context(), let socket = try? Socket(context, type: .dealer) else { return nil }
                do {
                    try socket.connect(endpoint)
                    try socket.send(frames: message, blocking: true)
                    var poller = Poller([socket.pollItem()])
                    try poller.poll(timeoutMilliseconds: 2000)
                    return poller.isReadable(0) ? try socket.receiveFrames(blocking: false) : nil
                } catch { return nil }
            }
        }

        @Test("the broker answers a call under another version's tag with ERROR MALFORMED naming both versions, a worker with DISCONNECT")
        func brokerNamesTheMismatch() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let call: [[UInt8]] = [
                bytes("ZGC02"), [ClientCommand.call.rawValue], .bigEndian(UInt64(41)), bytes("echo"), CallHeader().encoded,
            ]
            let error = await answer(of: broker.endpoints[0], to: call)
            #expect(error?.count == 5)
            if let error, error.count == 5 {
                #expect(error[0] == ProtocolTag.client && error[1] == [ClientCommand.error.rawValue] && uint64(error[2]) == 41)
                #expect(error[3] == ErrorCode.malformed.encoded)
                let text = String(decoding: error[4], as: UTF8.self)
                #expect(text.contains("the client speaks ZGC02 and this broker ZGC01"), "\(text)")
            }
            let ready: [[UInt8]] = [bytes("ZGW02"), [WorkerCommand.ready.rawValue], .bigEndian(UInt32(1)), bytes("echo")]
            #expect(await answer(of: broker.endpoints[0], to: ready) == [ProtocolTag.worker, [WorkerCommand.disconnect.rawValue]])
            // Garbage that is no protocol tag is still not answered.
            #expect(await answer(of: broker.endpoints[0], to: [bytes("HELLO"), [ClientCommand.call.rawValue]]) == nil)
            #expect(try await settledCount(broker, \.malformedMessages, reaching: 3) == 3)
        }

        @Test("a client whose broker answers in another version fails its call at once, saying so, not at its time limit")
        func clientNamesTheMismatch() async throws {
            let other = try OtherVersionBroker()
            let answering = Task { await other.answer(seconds: 20) }
            defer { answering.cancel() }
            let client = try GridClient(broker: other.endpoint, heartbeat: testHeartbeat)
            let result = await outcome { () async throws(GridError) in try await client.call("echo", bytes("hi"), timeout: .seconds(20)) }
            guard case .failure(.brokerUnreachable(let message)) = result else {
                Issue.record("expected brokerUnreachable naming the versions, got \(result)")
                await client.close()
                return
            }
            #expect(message.contains("the broker speaks ZGC02 and this client ZGC01"), "\(message)")
            await client.close()
        }

        @Test("a zgrid worker whose broker answers in another version logs the mismatch")
        func workerNamesTheMismatch() async throws {
            let other = try OtherVersionBroker()
            let answering = Task { await other.answer(seconds: 30) }
            defer { answering.cancel() }
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let log = directory.file("worker.log")
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            let process = try launchZGrid(
                ["worker", "--connect", other.endpoint, "--function", "echo"], standardError: FileHandle(forWritingAtPath: log),
                workingDirectory: directory.path)
            defer { endProcess(process) }
            try await waitUntil("the worker logged the mismatch", seconds: 20) {
                (readText(log) ?? "").contains("the broker speaks ZGW02 and this worker ZGW01")
            }
        }
    }
}
