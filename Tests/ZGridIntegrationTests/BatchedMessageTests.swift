import Foundation
import Synchronization
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZGridWorker
import ZeroMQ

/// A raw DEALER socket speaking to the broker frame by frame, to check what the broker sends.
final class RawPeer: @unchecked Sendable {
    // @unchecked: one test uses it, each call on its own thread in turn.
    private let socket: Socket
    private let tag: [UInt8]

    /// Connects to `endpoint`, speaking with `tag`; with `security`, as a CURVE client.
    init(_ endpoint: String, tag: [UInt8], security: PeerSecurity? = nil) throws {
        socket = try Socket(try Context(), type: .dealer)
        try socket.setLinger(milliseconds: 0)
        if let security { try socket.makeCurveClient(serverKey: security.serverKey, keys: security.keys) }
        try socket.connect(endpoint)
        self.tag = tag
    }

    /// Sends one message: the protocol tag, then `frames`.
    func send(_ frames: [[UInt8]]) async {
        await send(messages: [frames])
    }

    /// Sends several messages back to back, from one thread, so that they arrive together.
    func send(messages: [[[UInt8]]]) async {
        await onThread {
            for frames in messages { _ = try? self.socket.send(frames: [self.tag] + frames, blocking: true) }
        }
    }

    /// The next message other than HEARTBEAT (unless `heartbeats`), without the tag; nil after
    /// `seconds`. Sends HEARTBEAT on the way, so the broker keeps this peer alive.
    func next(seconds: Double = 5, heartbeats: Bool = false) async -> [[UInt8]]? {
        await onThread {
            let deadline = Date().addingTimeInterval(seconds)
            var poller = Poller([self.socket.pollItem()])
            var lastBeat = Date.distantPast
            while Date() < deadline {
                if Date().timeIntervalSince(lastBeat) > 0.1 {
                    _ = try? self.socket.send(frames: [self.tag, [ClientCommand.heartbeat.rawValue]])
                    lastBeat = Date()
                }
                guard (try? poller.poll(timeoutMilliseconds: 50)) != nil, poller.isReadable(0) else { continue }
                guard let frames = try? self.socket.receiveFrames(blocking: false), frames.count >= 2 else { continue }
                if !heartbeats && frames[1] == [ClientCommand.heartbeat.rawValue] { continue }
                return Array(frames.dropFirst())
            }
            return nil
        }
    }
}

/// Makes `calls` concurrent `echo` calls, each with its own payload; returns how many came back
/// with another payload than their own.
private func echoConcurrently(_ client: GridClient, calls: Int) async throws -> Int {
    try await withThrowingTaskGroup(of: Int.self) { group in
        for n in 0..<calls {
            group.addTask {
                let payload = bytes("call \(n)")
                return try await client.call("echo", payload, timeout: .seconds(20)) == payload ? 0 : 1
            }
        }
        return try await group.reduce(0, +)
    }
}

/// A CALLS message (after the tag): the request table of `calls`, then their payloads.
private func callsMessage(
    _ calls: [(id: UInt64, payload: String)], function: String = "echo", idempotent: (UInt64) -> Bool = { _ in false }
)
    -> [[UInt8]]
{
    var table: [UInt8] = []
    for call in calls {
        let header = CallHeader(flags: idempotent(call.id) ? CallHeader.idempotentFlag : 0, timeoutMilliseconds: 8000)
        BatchedRequest.encode(id: call.id, header: header, function: function, into: &table)
    }
    return [[ClientCommand.calls.rawValue], table] + calls.map { bytes($0.payload) }
}

/// A REPLIES message (after the tag): the ids of `results` in one frame, then their payloads.
private func repliesMessage(_ results: [(id: UInt64, payload: [UInt8])]) -> [[UInt8]] {
    [[WorkerCommand.replies.rawValue], results.flatMap { [UInt8].bigEndian($0.id) }] + results.map(\.payload)
}

/// The results a REPLIES message (after the tag) carries, by id.
private func results(ofReplies message: [[UInt8]]) -> [UInt64: String] {
    var results: [UInt64: String] = [:]
    for position in 0..<(message.count - 2) {
        results[uint64(Array(message[1][(8 * position)..<(8 * position + 8)]))] = String(decoding: message[2 + position], as: UTF8.self)
    }
    return results
}

/// The frames of READY for `echo` with concurrency 8, with or without the BATCHED capability.
private func ready(batched: Bool) -> [[UInt8]] {
    let concurrency: [UInt8] = .bigEndian(UInt32(8)) + (batched ? .bigEndian(WorkerCapabilities.batched.rawValue) : [])
    return [[WorkerCommand.ready.rawValue], concurrency, bytes("echo")]
}

extension IntegrationTests {
    @Suite("Batched messages between the broker and real peers", .serialized, .timeLimit(.minutes(2)))
    struct BatchedMessageTests {
        @Test("a client's CALLS reaches a BATCHED worker as one REQUESTS; the worker's REPLIES reach the client as one REPLIES")
        func batchedEndToEnd() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let worker = try RawPeer(broker.endpoints[0], tag: ProtocolTag.worker)
            await worker.send(ready(batched: true))
            let ack = try #require(await worker.next(heartbeats: true))
            #expect(
                ack == [[WorkerCommand.heartbeat.rawValue], .bigEndian(UInt32(64)), .bigEndian(UInt32(1 << 20)), WorkerHeartbeat.resumes],
                "READY is acknowledged with the frame limit, the frame size limit and the promise to take resumed sessions")

            let client = try RawPeer(broker.endpoints[0], tag: ProtocolTag.client)
            await client.send(callsMessage((1...4).map { (UInt64($0), "p\($0)") }))
            let requests = try #require(await worker.next())
            #expect(requests.first == [WorkerCommand.requests.rawValue])
            #expect(requests.count == 6, "four requests in one message: the table and their payloads")
            let table = try #require(requests[1].withUnsafeBytes { BatchedRequest.decodeTable($0, firstPayload: 2) })
            #expect(table.map(\.function) == ["echo", "echo", "echo", "echo"])
            let payloads = table.map { String(decoding: requests[$0.payloadIndex], as: UTF8.self) }
            #expect(payloads == ["p1", "p2", "p3", "p4"], "requests keep the order of the calls")
            await worker.send(repliesMessage(table.map { ($0.id, bytes("r") + requests[$0.payloadIndex]) }))

            let replies = try #require(await client.next())
            #expect(replies.first == [ClientCommand.replies.rawValue])
            #expect(results(ofReplies: replies) == [1: "rp1", 2: "rp2", 3: "rp3", 4: "rp4"])
            #expect(try await settledCount(broker, \.callsSucceeded, reaching: 4) == 4)
        }

        @Test("a worker without the capability gets single REQUESTs; a client that never sent CALLS gets single REPLYs")
        func singlesForOlderPeers() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let worker = try RawPeer(broker.endpoints[0], tag: ProtocolTag.worker)
            await worker.send(ready(batched: false))
            _ = await worker.next(heartbeats: true)
            let client = try RawPeer(broker.endpoints[0], tag: ProtocolTag.client)
            // A CALLS (so the broker sees several calls in one pass), from a client then judged able to take REPLIES...
            await client.send(callsMessage((1...3).map { (UInt64($0), "q\($0)") }))
            var dispatchIDs: [UInt64] = []
            for _ in 1...3 {
                let request = try #require(await worker.next())
                #expect(request.first == [WorkerCommand.request.rawValue], "one REQUEST per call")
                dispatchIDs.append(uint64(request[1]))
            }
            // ...so a second client, sending plain CALLs, is the one that must get single REPLYs.
            let older = try RawPeer(broker.endpoints[0], tag: ProtocolTag.client)
            for n in 4...5 {
                await older.send([
                    [ClientCommand.call.rawValue], .bigEndian(UInt64(n)), bytes("echo"), CallHeader(timeoutMilliseconds: 5000).encoded,
                    bytes("q\(n)"),
                ])
            }
            for _ in 4...5 {
                let request = try #require(await worker.next())
                #expect(request.first == [WorkerCommand.request.rawValue])
                dispatchIDs.append(uint64(request[1]))
            }
            await worker.send(repliesMessage(dispatchIDs.map { ($0, bytes("ok")) }))
            let batched = try #require(await client.next())
            #expect(batched.first == [ClientCommand.replies.rawValue])
            #expect(results(ofReplies: batched) == [1: "ok", 2: "ok", 3: "ok"])
            var olderIDs: Set<UInt64> = []
            for _ in 4...5 {
                let reply = try #require(await older.next())
                #expect(reply.first == [ClientCommand.reply.rawValue])
                olderIDs.insert(uint64(reply[1]))
            }
            #expect(olderIDs == [4, 5])
        }

        @Test("when a worker dies holding a REQUESTS, its plain calls fail with workerLost and its idempotent ones run elsewhere")
        func workerDiesHoldingABatch() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let doomed = try RawPeer(broker.endpoints[0], tag: ProtocolTag.worker)
            await doomed.send(ready(batched: true))
            _ = await doomed.next(heartbeats: true)
            let client = try RawPeer(broker.endpoints[0], tag: ProtocolTag.client)
            await client.send(callsMessage((1...4).map { (UInt64($0), "p\($0)") }, idempotent: { $0 > 2 }))
            let requests = try #require(await doomed.next())
            #expect(requests.first == [WorkerCommand.requests.rawValue] && requests.count == 6)
            // The doomed worker now falls silent; a real one takes over what may run again.
            let worker = try await startWorker(broker) { $0.register("echo") { bytes("again ") + $0.payload } }
            var outcomes: [UInt64: String] = [:]
            while outcomes.count < 4, let message = await client.next(seconds: 10) {
                switch message.first {
                case [ClientCommand.reply.rawValue]:
                    outcomes[uint64(message[1])] = String(decoding: message[2], as: UTF8.self)
                case [ClientCommand.replies.rawValue]:
                    outcomes.merge(results(ofReplies: message)) { $1 }
                case [ClientCommand.error.rawValue]:
                    let code = message[2].reduce(0) { $0 << 8 | UInt16($1) }
                    outcomes[uint64(message[1])] = "error \(ErrorCode(rawValue: code).map { "\($0)" } ?? "?")"
                default: break
                }
            }
            #expect(outcomes == [1: "error worker lost", 2: "error worker lost", 3: "again p3", 4: "again p4"])
            #expect(try await settledCount(broker, \.callsRetried, reaching: 2) == 2)
            await worker.stop()
        }

        @Test("a malformed CALLS is counted and dropped whole, and the next one is served")
        func malformedCalls() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let worker = try await startWorker(broker) { $0.register("echo") { $0.payload } }
            let client = try RawPeer(broker.endpoints[0], tag: ProtocolTag.client)
            await client.send(Array(callsMessage([(1, "a"), (2, "b")]).dropLast()))  // a payload missing
            await client.send([[ClientCommand.calls.rawValue], [1, 2, 3], bytes("a"), bytes("b")])  // a bad request table
            await client.send(callsMessage([(4, "a"), (5, "b")], function: "no such"))  // an invalid function name
            try await waitUntil("the broker counted the malformed CALLS") { broker.status.statistics.malformedMessages >= 3 }
            await client.send(callsMessage([(6, "x"), (7, "y")]))
            var answered: [UInt64: String] = [:]
            while answered.count < 2, let message = await client.next() {
                if message.first == [ClientCommand.reply.rawValue] {
                    answered[uint64(message[1])] = String(decoding: message[2], as: UTF8.self)
                } else if message.first == [ClientCommand.replies.rawValue] {
                    answered.merge(results(ofReplies: message)) { $1 }
                }
            }
            #expect(answered == [6: "x", 7: "y"])
            let status = try await settledStatus(broker)
            #expect(status.statistics.malformedMessages == 3)
            #expect(status.statistics.callsReceived == 2, "no call of a malformed CALLS was accepted")
            await worker.stop()
        }

        @Test(
            "with a broker taking the fewest frames per message it allows, clients and workers batch within it, a job with a payload is stored, and nothing is dropped"
        )
        func smallFrameLimit() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            // A longer expiry than other tests': in a ThreadSanitizer build on a loaded machine this
            // broker, with its job store, once sent no heartbeat for 850 ms and the client gave up.
            let heartbeat = HeartbeatSettings(intervalMilliseconds: 200, liveness: 25)
            let broker = try startBroker(
                jobStore: directory.file("jobs.sqlite"), maxFrames: BrokerConfiguration.frameLimits.lowerBound, heartbeat: heartbeat)
            defer { broker.stop() }
            let worker = try await startWorker(broker, concurrency: 64, heartbeat: heartbeat) {
                $0.register("echo", execution: .ioThread) { $0.payload }
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: heartbeat)
            _ = try await client.call("echo", bytes("first"))  // the broker's frame limit arrives meanwhile
            #expect(try await echoConcurrently(client, calls: 500) == 0)
            let job = try await client.submit("echo", bytes("job"), options: JobOptions(replaceKey: "small-frames"))
            #expect(try await client.result(job: job, timeout: .seconds(10)) == bytes("job"))
            let status = try await settledStatus(broker)
            #expect(status.statistics.malformedMessages == 0, "no CALLS, REPLIES or ENQUEUE past the limit")
            #expect(status.statistics.callsSucceeded == 501)
            await client.close()
            await worker.stop()
        }

        @Test("thousands of concurrent calls through the real client and workers each get their own result")
        func manyConcurrentCalls() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let workers = [
                try await startWorker(broker, concurrency: 64) { $0.register("echo", execution: .ioThread) { $0.payload } },
                try await startWorker(broker, concurrency: 64) { $0.register("echo") { $0.payload } },
            ]
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            #expect(try await echoConcurrently(client, calls: 3000) == 0)
            #expect(try await settledCount(broker, \.callsSucceeded, reaching: 3000) == 3000)
            // The client rebuilt its deadline heap on the way: a call left unanswered still times out.
            let started = ContinuousClock.now
            await #expect(throws: GridError.self) { try await client.call("unserved", [], timeout: .milliseconds(300)) }
            #expect(started.duration(to: .now) < .seconds(5))
            await client.close()
            for worker in workers { await worker.stop() }
        }
    }
}
