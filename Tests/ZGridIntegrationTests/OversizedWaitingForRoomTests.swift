import Foundation
import Testing
import ZGridClient
import ZGridProtocol
import ZeroMQ

/// A ROUTER socket playing the broker for one client.
private final class BrokerStandIn {
    private let socket: Socket

    /// Bound to `endpoint` (port 0 picks one).
    private init(_ context: Context, at endpoint: String) throws {
        socket = try Socket(context, type: .router)
        try socket.bind(endpoint)
    }

    /// Bound to `endpoint`; a port that a closed socket has just left is tried again for up to a second.
    static func bound(_ context: Context, at endpoint: String = "tcp://127.0.0.1:0") async throws -> BrokerStandIn {
        let deadline = Date().addingTimeInterval(1)
        while true {
            do { return try BrokerStandIn(context, at: endpoint) } catch  where Date() < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    var endpoint: String { get throws { try socket.lastEndpoint() } }

    /// Sends `frames` (identity frame first).
    func send(_ frames: [[UInt8]]) throws { _ = try socket.send(frames: frames) }

    /// Takes messages from the client until `finished` counts one or 20 s pass; hands each to
    /// `handle` (identity frame first), HEARTBEATs included. Returns the largest frame received.
    func serve(until finished: Counter, _ handle: ([[UInt8]]) throws -> Void) async throws -> Int {
        var largest = 0
        let deadline = Date().addingTimeInterval(20)
        while finished.count == 0 && Date() < deadline {
            guard let frames = try socket.receiveFrames(blocking: false), frames.count > 2 else {
                try await Task.sleep(for: .milliseconds(5))
                continue
            }
            largest = max(largest, frames.dropFirst().map(\.count).max() ?? 0)
            try handle(frames)
        }
        return largest
    }
}

/// The HEARTBEAT a broker answers with: 64 frames a message, `frameBytes` bytes a frame, and
/// `inFlight` calls in flight per client.
private func limitsHeartbeat(to identity: [UInt8], frameBytes: UInt32, inFlight: UInt32) -> [[UInt8]] {
    [
        identity, ProtocolTag.client, [ClientCommand.heartbeat.rawValue], .bigEndian(UInt32(64)), .bigEndian(frameBytes),
        .bigEndian(inFlight),
    ]
}

/// A REPLY to the request whose id frame is `id`, with `payload`.
private func reply(to identity: [UInt8], id: [UInt8], _ payload: [UInt8]) -> [[UInt8]] {
    [identity, ProtocolTag.client, [ClientCommand.reply.rawValue], id, payload]
}

extension IntegrationTests.FrameSizeLimitTests {
    @Test(
        "a call over the frame limit, made before a new client heard it and waiting for room, fails unsent: no frame over the limit goes out"
    )
    func oversizedCallWaitingForRoom() async throws {
        let context = try Context()
        let router = try await BrokerStandIn.bound(context)
        // A 10 s expiry: the client waits for the limits all through the test.
        let client = try GridClient(broker: try router.endpoint, heartbeat: HeartbeatSettings(intervalMilliseconds: 1000, liveness: 10))
        let finished = Counter()
        // Made on the client's own thread in this order, in one pass: until it hears the broker's
        // limits the client keeps one call in flight, so the small call goes out and the large
        // one waits for room. The HEARTBEAT is answered only once the small call has arrived.
        let calls = Task(executorPreference: client.executor) {
            async let small = outcome { () async throws(GridError) in try await client.call("echo", bytes("small"), timeout: .seconds(10)) }
            async let large = outcome { () async throws(GridError) in
                try await client.call("echo", [UInt8](repeating: 4, count: 4000), timeout: .seconds(10))
            }
            defer { finished.increment() }
            return await (small, large)
        }
        let largest = try await router.serve(until: finished) { frames in
            guard frames[2] == [ClientCommand.call.rawValue], frames.last == bytes("small") else { return }
            try router.send(limitsHeartbeat(to: frames[0], frameBytes: 2048, inFlight: 10))
            try router.send(reply(to: frames[0], id: frames[3], bytes("small")))
        }
        let (small, large) = await calls.value
        // A real broker drops the connection of a peer that sends a frame over its limit, and with
        // it every call in flight there.
        #expect(largest <= 2048, "the client sent a frame of \(largest) bytes, over the 2048 the broker said")
        #expect(small == .success(bytes("small")))
        guard case .failure(.invalidArgument(let message)) = large else {
            Issue.record("expected invalidArgument, got \(large)")
            return
        }
        #expect(message.contains("max_message_bytes"), "\(message)")
        await client.close()
    }

    @Test("a scatter over the frame limit of a broker restarted with a lower one, waiting for room across the restart, fails unsent")
    func oversizedScatterWaitingForRoomAcrossRestart() async throws {
        let context = try Context()
        let endpoint: String
        let client: GridClient
        let kept: Task<Result<[UInt8], GridError>, Never>
        let scatter: ScatterStream
        let events: EventStream
        do {
            let first = try await BrokerStandIn.bound(context)
            endpoint = try first.endpoint
            client = try GridClient(broker: endpoint, heartbeat: HeartbeatSettings(intervalMilliseconds: 1000, liveness: 10))
            // The first broker takes 1 MiB frames and one call in flight. Once the first call is
            // answered the client knows those limits; the idempotent one then takes the room, and
            // keeps it across the restart (it goes out again).
            let warming = Task { [client] in _ = try? await client.call("echo", bytes("warm"), timeout: .seconds(10)) }
            kept = Task { [client] in
                await warming.value
                return await outcome { () async throws(GridError) in
                    try await client.call("echo", bytes("kept"), timeout: .seconds(20), idempotent: true)
                }
            }
            let keptArrived = Counter()
            _ = try await first.serve(until: keptArrived) { frames in
                if frames[2] == [ClientCommand.heartbeat.rawValue] {
                    try first.send(limitsHeartbeat(to: frames[0], frameBytes: 1 << 20, inFlight: 1))
                } else if frames.last == bytes("warm") {
                    try first.send(reply(to: frames[0], id: frames[3], bytes("warm")))
                } else if frames.last == bytes("kept") {
                    keptArrived.increment()
                }
            }
            #expect(keptArrived.count == 1, "the idempotent call never reached the first broker")
            // Posted in this order: the SUBSCRIBE reaching the broker shows the scatter waits for room.
            scatter = try client.scatter("echo", [UInt8](repeating: 5, count: 4000), timeout: .seconds(10))
            events = try client.events(matching: .poolEvents)
            let subscribed = Counter()
            _ = try await first.serve(until: subscribed) { frames in
                if frames[2] == [ClientCommand.subscribe.rawValue] { subscribed.increment() }
            }
            #expect(subscribed.count == 1, "the subscription never reached the first broker")
        }  // the first broker closes: the connection drops
        // Back with frames of at most 2048 bytes: the kept call goes out again and is answered,
        // which makes room for the scatter.
        let second = try await BrokerStandIn.bound(context, at: endpoint)
        let finished = Counter()
        let gathering = Task {
            defer { finished.increment() }
            return await scatter.gathered()
        }
        let largest = try await second.serve(until: finished) { frames in
            if frames[2] == [ClientCommand.heartbeat.rawValue] {
                try second.send(limitsHeartbeat(to: frames[0], frameBytes: 2048, inFlight: 1))
            } else if frames.last == bytes("kept") {
                try second.send(reply(to: frames[0], id: frames[3], bytes("kept")))
            }
        }
        let gathered = await gathering.value
        #expect(largest <= 2048, "the client sent a frame of \(largest) bytes, over the 2048 the restarted broker said")
        guard case .invalidArgument(let message) = gathered.error else {
            Issue.record("expected invalidArgument, got \(String(describing: gathered.error)) after \(gathered.parts.count) parts")
            return
        }
        #expect(message.contains("max_message_bytes"), "\(message)")
        #expect(await kept.value == .success(bytes("kept")))
        _ = events
        await client.close()
    }
}
