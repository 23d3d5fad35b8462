import Foundation
import Synchronization
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZeroMQ

extension IntegrationTests {
    @Suite("A worker's REPLY with more frames than max_frames", .serialized, .timeLimit(.minutes(1)))
    struct OverlongReplyTests {
        @Test("an MDP worker's overlong REPLY fails its call at once, and the worker takes calls again")
        func overlongMajordomoReply() async throws {
            try await expectOverlongReplyFailsItsCall(majordomo: true)
        }

        @Test("a ZGW01 worker's overlong REPLY fails its call at once, and the worker takes calls again")
        func overlongZGridReply() async throws {
            try await expectOverlongReplyFailsItsCall(majordomo: false)
        }
    }
}

/// Serves `wide` from a raw worker that answers its first request with 20 body frames (past the
/// broker's 16) and later ones with one, and checks that the first call fails as a handler error
/// long before its time limit and the next call is served: the dropped REPLY must not keep the
/// worker's only slot taken (MDP has no CANCEL, so nothing else would free it).
private func expectOverlongReplyFailsItsCall(majordomo: Bool) async throws {
    let broker = try startBroker(maxFrames: 16)
    defer { broker.stop() }
    let endpoint = broker.endpoints[0]
    let stop = StopFlag()
    let worker = Task { await onThread { runWideWorker(endpoint, majordomo: majordomo, until: stop) } }
    defer { stop.set() }
    try await waitUntil("the raw worker registered") { broker.status.functions["wide"] == 1 }
    let client = try GridClient(broker: endpoint, heartbeat: testHeartbeat)
    let started = ContinuousClock.now
    let first = await outcome { () async throws(GridError) in try await client.call("wide", bytes("a"), timeout: .seconds(8)) }
    guard case .failure(.handlerError(let message)) = first else {
        Issue.record("expected a handler error for the overlong reply, got \(first)")
        return
    }
    #expect(message.contains("more than 16 frames"), "\(message)")
    #expect(ContinuousClock.now - started < .seconds(4), "the call must fail when the reply comes, not at its time limit")
    let second = await outcome { () async throws(GridError) in try await client.call("wide", bytes("b"), timeout: .seconds(4)) }
    #expect(second == .success(bytes("x")), "the worker's slot must be free again")
    let status = try await settledStatus(broker)
    #expect(status.statistics.malformedMessages == 1)
    #expect(status.statistics.protocolViolations == 0)
    await client.close()
    stop.set()
    #expect(await worker.value, "the raw worker's socket failed")
}

/// A flag one task sets and a thread polls.
private final class StopFlag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}

/// A worker of concurrency 1 for `wide` on a raw DEALER socket, speaking MDP/0.1 or ZGW01, until
/// `stop` is set: answers its first request with 20 frames of `x`, later ones with one. Returns
/// false when the socket fails.
private func runWideWorker(_ endpoint: String, majordomo: Bool, until stop: StopFlag) -> Bool {
    guard let context = try? Context(), let socket = try? Socket(context, type: .dealer) else { return false }
    let head: [[UInt8]] = majordomo ? [[], Majordomo.workerTag] : [ProtocolTag.worker]
    let ready: [[UInt8]] =
        majordomo
        ? [[MajordomoCommand.ready.rawValue], bytes("wide")] : [[WorkerCommand.ready.rawValue], .bigEndian(UInt32(1)), bytes("wide")]
    let heartbeat = head + [[majordomo ? MajordomoCommand.heartbeat.rawValue : WorkerCommand.heartbeat.rawValue]]
    let request = majordomo ? MajordomoCommand.request.rawValue : WorkerCommand.request.rawValue
    let reply = majordomo ? MajordomoCommand.reply.rawValue : WorkerCommand.reply.rawValue
    do {
        try socket.setLinger(milliseconds: 0)
        try socket.connect(endpoint)
        try socket.send(frames: head + ready, blocking: true)
        var replies = 0
        var nextHeartbeat = Date()
        while !stop.isSet {
            if Date() >= nextHeartbeat {
                try socket.send(frames: heartbeat, blocking: true)
                nextHeartbeat = Date().addingTimeInterval(0.1)
            }
            guard let frames = try socket.receiveFrames(blocking: false) else {
                Thread.sleep(forTimeInterval: 0.005)
                continue
            }
            guard frames.count > head.count + 1, frames[head.count] == [request] else { continue }
            replies += 1
            let address = [frames[head.count + 1]] + (majordomo ? [[]] : [])  // MDP: the empty delimiter too
            let body = Array(repeating: bytes("x"), count: replies == 1 ? 20 : 1)
            try socket.send(frames: head + [[reply]] + address + body, blocking: true)
        }
        return true
    } catch { return false }
}
