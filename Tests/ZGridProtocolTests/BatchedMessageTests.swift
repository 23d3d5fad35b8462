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

    /// A request table with an entry per `(id, header, function)`.
    private func table(_ entries: [(UInt64, CallHeader, String)]) -> [UInt8] {
        var bytes: [UInt8] = []
        for (id, header, function) in entries { BatchedRequest.encode(id: id, header: header, function: function, into: &bytes) }
        return bytes
    }

    /// An id table.
    private func ids(_ ids: [UInt64]) -> [UInt8] { ids.flatMap { [UInt8].bigEndian($0) } }

    private let identity: [UInt8] = [0, 1, 2, 3, 4]

    @Test("a request table round-trips with 8-, 12- and 20-byte headers; malformed entries are refused")
    func requestTable() {
        let headers = [
            CallHeader(flags: 1, priority: 9, timeoutMilliseconds: 77), CallHeader(timeoutMilliseconds: 5, shard: 15),
            CallHeader(timeoutMilliseconds: 9, job: 42),
        ]
        let bytes = table(headers.enumerated().map { (UInt64(0xABC0 + $0.offset), $0.element, "search.v\($0.offset)") })
        #expect(bytes.count == headers.map { 8 + 1 + $0.encoded.count + 1 + 9 }.reduce(0, +))
        let decoded = bytes.withUnsafeBytes { BatchedRequest.decodeTable($0, firstPayload: 7) }
        #expect(
            decoded
                == headers.enumerated().map {
                    BatchedRequest(
                        id: UInt64(0xABC0 + $0.offset), function: "search.v\($0.offset)", header: $0.element, payloadIndex: 7 + $0.offset)
                })
        let good = table([(1, CallHeader(), "echo")])
        var badLength = good
        badLength[8] = 7
        var longLength = good
        longLength[8] = 200
        var badName = good
        badName[badName.count - 1] = UInt8(ascii: " ")
        var badPriority = good
        badPriority[10] = 10
        var noName = good
        noName[noName.count - 5] = 0
        var longName = good
        longName[longName.count - 5] = 5
        for bad in [Array(good.prefix(17)), badLength, longLength, badName, badPriority, noName, longName, good + [0]] {
            #expect(bad.withUnsafeBytes { BatchedRequest.decodeTable($0, firstPayload: 0) } == nil, "\(bad)")
        }
        #expect(Array(good.prefix(good.count - 4)).withUnsafeBytes { BatchedRequest.decodeTable($0, firstPayload: 0) } == nil, "no name")
    }

    @Test("items per message follow the broker's frame limit, at most 32")
    func perMessage() {
        #expect(BatchedRequest.perMessage(frameLimit: 64) == 32)
        #expect(BatchedRequest.perMessage(frameLimit: 30) == 26)
        #expect(BatchedRequest.perMessage(frameLimit: 8) == 4)
        #expect(BatchedRequest.perMessage(frameLimit: 4) == 0)
        #expect(BatchedRequest.perMessage(frameLimit: 4096) == 32)
    }

    @Test("CALLS decodes into its calls, each with its payload frame; broken ones are malformed")
    func calls() {
        let first = CallHeader(priority: 3, timeoutMilliseconds: 100)
        let second = CallHeader(flags: CallHeader.idempotentFlag, timeoutMilliseconds: 200)
        let frames: [[UInt8]] = [
            identity, ProtocolTag.client, [ClientCommand.calls.rawValue], table([(7, first, "echo"), (8, second, "hash")]), [1, 2], [],
        ]
        let decoded = message(frames)
        #expect(BrokerInbound.decode(decoded) == .success(.calls(BatchedRequestTable(frame: 3, count: 2))))
        #expect(
            BatchedRequestTable(frame: 3, count: 2).requests(in: decoded) == [
                BatchedRequest(id: 7, function: "echo", header: first, payloadIndex: 4),
                BatchedRequest(id: 8, function: "hash", header: second, payloadIndex: 5),
            ])
        #expect(BrokerInbound.decode(message(Array(frames.prefix(5)))) == .failure(.badBatch), "a payload missing")
        #expect(BrokerInbound.decode(message(frames + [[3]])) == .failure(.badBatch), "a payload too many")
        var extraEntry = frames
        extraEntry[3] = table([(7, first, "echo"), (8, second, "hash"), (9, first, "echo")])
        #expect(BrokerInbound.decode(message(extraEntry)) == .failure(.badBatch), "an entry without its payload")
        let single: [[UInt8]] = [identity, ProtocolTag.client, [ClientCommand.calls.rawValue], table([(7, first, "echo")]), [1]]
        #expect(BrokerInbound.decode(message(single)) == .failure(.badBatch), "a single call")
        var broken = frames
        broken[3] = [1, 2, 3]
        #expect(BrokerInbound.decode(message(broken)) == .failure(.badBatch), "a bad request table")
    }

    @Test("a worker's REPLIES decodes into its dispatch ids; broken ones are malformed")
    func workerReplies() {
        let frames: [[UInt8]] = [identity, ProtocolTag.worker, [WorkerCommand.replies.rawValue], ids([5, 6]), [9], []]
        #expect(BrokerInbound.decode(message(frames)) == .success(.replies(dispatchIDs: [5, 6])))
        var broken = frames
        broken[3] = [1, 2, 3]
        #expect(BrokerInbound.decode(message(broken)) == .failure(.badBatch))
        #expect(BrokerInbound.decode(message(Array(frames.prefix(5)))) == .failure(.badBatch), "an id without its result")
        #expect(BrokerInbound.decode(message(frames + [[1]])) == .failure(.badBatch), "a result without its id")
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

    @Test("READY with RESUMING carries the earlier identity and the ids still running before its descriptors")
    func readyResuming() {
        let base: [[UInt8]] = [identity, ProtocolTag.worker, [WorkerCommand.ready.rawValue]]
        let capabilities: WorkerCapabilities = [.batched, .resuming]
        let concurrency: [UInt8] = .bigEndian(UInt32(2)) + .bigEndian(capabilities.rawValue)
        let earlier: [UInt8] = Array("Zearlier".utf8)
        let resume = SessionResume.frames(previous: earlier, running: [7, 9])
        let decoded = BrokerInbound.decode(message(base + [concurrency] + resume + [Array("echo".utf8)]))
        #expect(
            decoded
                == .success(
                    .ready(
                        concurrency: 2, functions: [ServiceDescriptor(name: "echo")], capabilities: capabilities,
                        resume: SessionResume(previous: PeerID(earlier), running: [7, 9]))))
        #expect(BrokerInbound.decode(message(base + [concurrency] + resume)) == .failure(.missingFrames), "no descriptor")
        #expect(BrokerInbound.decode(message(base + [concurrency, [], resume[1], Array("echo".utf8)])) == .failure(.badID))
        #expect(BrokerInbound.decode(message(base + [concurrency, earlier, [1, 2, 3], Array("echo".utf8)])) == .failure(.badID))
        let tooMany = SessionResume.frames(previous: earlier, running: [1, 2, 3, 4, 5])
        #expect(
            BrokerInbound.decode(message(base + [concurrency] + tooMany + [Array("echo".utf8)])) == .failure(.badID),
            "more ids than twice the concurrency")
    }

    @Test("REQUESTS decodes on the worker; the broker's HEARTBEAT carries its frame limit")
    func workerSide() {
        let header = CallHeader(timeoutMilliseconds: 50, shard: 3)
        let frames: [[UInt8]] = [
            ProtocolTag.worker, [WorkerCommand.requests.rawValue], table([(11, header, "echo"), (12, header, "echo")]), [1], [2],
        ]
        let decoded = message(frames)
        #expect(WorkerInbound.decode(decoded) == .success(.requests(BatchedRequestTable(frame: 2, count: 2))))
        #expect(
            BatchedRequestTable(frame: 2, count: 2).requests(in: decoded) == [
                BatchedRequest(id: 11, function: "echo", header: header, payloadIndex: 3),
                BatchedRequest(id: 12, function: "echo", header: header, payloadIndex: 4),
            ])
        #expect(WorkerInbound.decode(message(Array(frames.prefix(4)))) == .failure(.badBatch))
        let beat: [[UInt8]] = [ProtocolTag.worker, [WorkerCommand.heartbeat.rawValue]]
        #expect(WorkerInbound.decode(message(beat)) == .success(.heartbeat(frameLimit: nil, frameBytesLimit: nil)))
        #expect(
            WorkerInbound.decode(message(beat + [.bigEndian(UInt32(64))])) == .success(.heartbeat(frameLimit: 64, frameBytesLimit: nil)))
        #expect(
            WorkerInbound.decode(message(beat + [[1, 2]])) == .success(.heartbeat(frameLimit: nil, frameBytesLimit: nil)),
            "a bad limit is ignored")
        #expect(
            WorkerInbound.decode(message(beat + [.bigEndian(UInt32(64)), .bigEndian(UInt32(1 << 20))]))
                == .success(.heartbeat(frameLimit: 64, frameBytesLimit: 1 << 20)))
        let limits: [[UInt8]] = [.bigEndian(UInt32(64)), .bigEndian(UInt32(1 << 20))]
        #expect(WorkerInbound.decode(message(beat + limits + [WorkerHeartbeat.drainAcknowledged])) == .success(.drainAcknowledged))
        #expect(
            WorkerInbound.decode(message(beat + limits + [WorkerHeartbeat.resumes]))
                == .success(.heartbeat(frameLimit: 64, frameBytesLimit: 1 << 20, resumes: true)),
            "frame 4 says the broker takes resumed sessions")
        #expect(
            WorkerInbound.decode(message(beat + limits + [[4]])) == .success(.heartbeat(frameLimit: 64, frameBytesLimit: 1 << 20)),
            "another frame 4 is ignored")
    }

    @Test("the client decodes REPLIES and the frame limit in HEARTBEAT")
    func clientSide() {
        let frames: [[UInt8]] = [ProtocolTag.client, [ClientCommand.replies.rawValue], ids([1, 2]), [7], [8]]
        #expect(ClientInbound.decode(message(frames)) == .success(.replies(requestIDs: [1, 2])))
        #expect(ClientInbound.decode(message(Array(frames.prefix(4)))) == .failure(.badBatch))
        let beat: [[UInt8]] = [ProtocolTag.client, [ClientCommand.heartbeat.rawValue], .bigEndian(UInt32(16))]
        #expect(ClientInbound.decode(message(beat)) == .success(.heartbeat(frameLimit: 16, frameBytesLimit: nil)))
        #expect(
            ClientInbound.decode(message(beat + [.bigEndian(UInt32(4096))])) == .success(.heartbeat(frameLimit: 16, frameBytesLimit: 4096)))
        #expect(
            ClientInbound.decode(message(beat + [[0, 1]])) == .success(.heartbeat(frameLimit: 16, frameBytesLimit: nil)),
            "a bad limit is ignored")
        let limits = beat + [.bigEndian(UInt32(4096))]
        #expect(
            ClientInbound.decode(message(limits + [.bigEndian(UInt32(50))]))
                == .success(.heartbeat(frameLimit: 16, frameBytesLimit: 4096, inFlightLimit: 50)))
        #expect(
            ClientInbound.decode(message(limits + [.bigEndian(UInt32(0))])) == .success(.heartbeat(frameLimit: 16, frameBytesLimit: 4096)),
            "a limit of 0 calls in flight is ignored")
        #expect(
            ClientInbound.decode(message(limits + [[0, 50]])) == .success(.heartbeat(frameLimit: 16, frameBytesLimit: 4096)),
            "a limit of calls in flight that is not 4 bytes is ignored")
    }
}
