import Testing
import ZGridProtocol
import ZeroMQ

@Suite("Batched messages (CALLS, REQUESTS, REPLIES) and their negotiation decode exactly")
struct BatchedMessageTests {
    private func message(_ frames: [[UInt8]]) -> Multipart {
        let message = Multipart(capacity: 128)
        for frame in frames { message.append(frame) }
        return message
    }

    private func requestFrame(_ id: UInt64, _ header: CallHeader, _ function: String) -> [UInt8] {
        var bytes: [UInt8] = []
        BatchedRequest.encode(id: id, header: header, function: function, into: &bytes)
        return bytes
    }

    private let identity: [UInt8] = [0, 1, 2, 3, 4]

    @Test("a request frame round-trips with 8-, 12- and 20-byte headers; malformed ones are refused")
    func requestFrame() {
        for header in [
            CallHeader(flags: 1, priority: 9, timeoutMilliseconds: 77), CallHeader(timeoutMilliseconds: 5, shard: 15),
            CallHeader(timeoutMilliseconds: 9, job: 42),
        ] {
            let bytes = requestFrame(0xABCD, header, "search.v2")
            #expect(bytes.count == 8 + 1 + header.encoded.count + 9)
            let decoded = bytes.withUnsafeBytes { BatchedRequest.decode($0, payloadIndex: 7) }
            #expect(decoded == BatchedRequest(id: 0xABCD, function: "search.v2", header: header, payloadIndex: 7))
        }
        let good = requestFrame(1, CallHeader(), "echo")
        var badLength = good
        badLength[8] = 7
        var longLength = good
        longLength[8] = 200
        var badName = good
        badName[badName.count - 1] = UInt8(ascii: " ")
        var badPriority = good
        badPriority[10] = 10
        for bad in [Array(good.prefix(17)), badLength, longLength, badName, badPriority] {
            #expect(bad.withUnsafeBytes { BatchedRequest.decode($0, payloadIndex: 0) } == nil)
        }
        #expect(Array(good.prefix(17)).withUnsafeBytes { BatchedRequest.decode($0, payloadIndex: 0) } == nil, "no name")
    }

    @Test("pairs per message follow the broker's frame limit, at most 32")
    func perMessage() {
        #expect(BatchedRequest.perMessage(frameLimit: 64) == 30)
        #expect(BatchedRequest.perMessage(frameLimit: 8) == 2)
        #expect(BatchedRequest.perMessage(frameLimit: 4) == 0)
        #expect(BatchedRequest.perMessage(frameLimit: 4096) == 32)
    }

    @Test("CALLS decodes into its calls, each with its payload frame; broken ones are malformed")
    func calls() {
        let first = CallHeader(priority: 3, timeoutMilliseconds: 100)
        let second = CallHeader(flags: CallHeader.idempotentFlag, timeoutMilliseconds: 200)
        let frames: [[UInt8]] = [
            identity, ProtocolTag.client, [ClientCommand.calls.rawValue], requestFrame(7, first, "echo"), [1, 2],
            requestFrame(8, second, "hash"), [],
        ]
        #expect(
            BrokerInbound.decode(message(frames))
                == .success(
                    .calls([
                        BatchedRequest(id: 7, function: "echo", header: first, payloadIndex: 4),
                        BatchedRequest(id: 8, function: "hash", header: second, payloadIndex: 6),
                    ])))
        #expect(BrokerInbound.decode(message(Array(frames.prefix(6)))) == .failure(.badBatch), "an odd frame count")
        #expect(BrokerInbound.decode(message(Array(frames.prefix(5)))) == .failure(.badBatch), "a single call")
        var broken = frames
        broken[5] = [1, 2, 3]
        #expect(BrokerInbound.decode(message(broken)) == .failure(.badBatch), "a bad request frame")
    }

    @Test("a worker's REPLIES decodes into its dispatch ids; broken ones are malformed")
    func workerReplies() {
        let frames: [[UInt8]] = [
            identity, ProtocolTag.worker, [WorkerCommand.replies.rawValue], .bigEndian(UInt64(5)), [9], .bigEndian(UInt64(6)), [],
        ]
        #expect(BrokerInbound.decode(message(frames)) == .success(.replies(dispatchIDs: [5, 6])))
        var broken = frames
        broken[5] = [1, 2, 3]
        #expect(BrokerInbound.decode(message(broken)) == .failure(.badBatch))
        #expect(BrokerInbound.decode(message(Array(frames.prefix(6)))) == .failure(.badBatch))
    }

    @Test("READY carries capabilities in an 8-byte concurrency frame; 4 bytes means none, other sizes are malformed")
    func readyCapabilities() {
        let tail: [[UInt8]] = [Array("echo".utf8)]
        let base: [[UInt8]] = [identity, ProtocolTag.worker, [WorkerCommand.ready.rawValue]]
        let batched = BrokerInbound.decode(message(base + [.bigEndian(UInt32(8)) + .bigEndian(UInt32(1))] + tail))
        #expect(batched == .success(.ready(concurrency: 8, functions: [ServiceDescriptor(name: "echo")], capabilities: .batched)))
        let plain = BrokerInbound.decode(message(base + [.bigEndian(UInt32(8))] + tail))
        #expect(plain == .success(.ready(concurrency: 8, functions: [ServiceDescriptor(name: "echo")], capabilities: [])))
        #expect(BrokerInbound.decode(message(base + [[0, 0, 0, 8, 0, 0]] + tail)) == .failure(.badConcurrency))
    }

    @Test("REQUESTS decodes on the worker; the broker's HEARTBEAT carries its frame limit")
    func workerSide() {
        let header = CallHeader(timeoutMilliseconds: 50, shard: 3)
        let frames: [[UInt8]] = [
            ProtocolTag.worker, [WorkerCommand.requests.rawValue], requestFrame(11, header, "echo"), [1], requestFrame(12, header, "echo"),
            [2],
        ]
        #expect(
            WorkerInbound.decode(message(frames))
                == .success(
                    .requests([
                        BatchedRequest(id: 11, function: "echo", header: header, payloadIndex: 3),
                        BatchedRequest(id: 12, function: "echo", header: header, payloadIndex: 5),
                    ])))
        #expect(WorkerInbound.decode(message(Array(frames.prefix(5)))) == .failure(.badBatch))
        let beat: [[UInt8]] = [ProtocolTag.worker, [WorkerCommand.heartbeat.rawValue]]
        #expect(WorkerInbound.decode(message(beat)) == .success(.heartbeat(frameLimit: nil)))
        #expect(WorkerInbound.decode(message(beat + [.bigEndian(UInt32(64))])) == .success(.heartbeat(frameLimit: 64)))
        #expect(WorkerInbound.decode(message(beat + [[1, 2]])) == .success(.heartbeat(frameLimit: nil)), "a bad limit is ignored")
    }

    @Test("the client decodes REPLIES and the frame limit in HEARTBEAT")
    func clientSide() {
        let frames: [[UInt8]] = [
            ProtocolTag.client, [ClientCommand.replies.rawValue], .bigEndian(UInt64(1)), [7], .bigEndian(UInt64(2)), [8],
        ]
        #expect(ClientInbound.decode(message(frames)) == .success(.replies(requestIDs: [1, 2])))
        #expect(ClientInbound.decode(message(Array(frames.prefix(5)))) == .failure(.badBatch))
        let beat: [[UInt8]] = [ProtocolTag.client, [ClientCommand.heartbeat.rawValue], .bigEndian(UInt32(16))]
        #expect(ClientInbound.decode(message(beat)) == .success(.heartbeat(frameLimit: 16)))
    }
}
