import Foundation
import Synchronization
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZGridWorker
import ZeroMQ

extension IntegrationTests {
    /// Faults of whole processes and peers: a worker frozen past its liveness and thawed, clients
    /// that vanish with calls in flight, and one client flooding the broker while another works.
    @Suite("Frozen workers, vanished clients and floods", .serialized, .timeLimit(.minutes(3)))
    struct FaultTests {
        // MARK: A frozen worker

        @Test("a worker process stopped (SIGSTOP) past its liveness is dropped, its calls end once, and after SIGCONT it registers again")
        func stoppedWorkerProcess() async throws {
            // Must hold: the non-idempotent call running on the stopped worker fails with
            // workerLost, once, and runs on no other worker; the idempotent one is retried once,
            // on the other worker (attempt 2), and its caller gets that answer only; the thawed
            // worker registers again and serves, and nothing is dispatched to it twice.
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let config = try writeHeartbeatConfig(directory)
            let broker = try startBroker()
            defer { broker.stop() }
            let endpoint = broker.endpoints[0]
            let process = try launchZGrid([
                "worker", "--config", config, "--connect", endpoint, "--function", "sleep", "--function", "echo", "--concurrency", "4",
                "--log-level", "critical",
            ])
            defer { endProcess(process) }
            try await waitUntil("worker process registered") { broker.status.workers == 1 }
            let client = try GridClient(broker: endpoint, heartbeat: testHeartbeat)
            let plain = Task { try await client.call("sleep", bytes("3000"), timeout: .seconds(20)) }
            let idempotent = Task { try await client.call("sleep", bytes("3001"), timeout: .seconds(20), idempotent: true) }
            try await waitUntil("both calls dispatched to the process") { broker.status.callsInFlight == 2 }
            let ranHere = Mutex<[String]>([])
            let other = try await startWorker(broker) { worker in
                worker.register("sleep") { request in
                    let payload = String(decoding: request.payload, as: UTF8.self)
                    ranHere.withLock { $0.append("\(payload) attempt \(request.attempt)") }
                    return bytes("in-process \(payload) attempt \(request.attempt)")
                }
            }
            #expect(ranHere.withLock { $0 }.isEmpty, "both calls were dispatched before the second worker joined")

            kill(process.processIdentifier, SIGSTOP)
            try await waitUntil("the stopped worker declared lost") { broker.status.statistics.workersLost == 1 }
            let plainResult = await plain.result
            guard case .failure(let error) = plainResult, case .workerLost = error as? GridError else {
                Issue.record("the non-idempotent call should fail with workerLost, got \(plainResult)")
                return
            }
            #expect(try await idempotent.value == bytes("in-process 3001 attempt 2"))
            #expect(ranHere.withLock { $0 } == ["3001 attempt 2"], "only the idempotent call runs again, once, elsewhere")
            try await Task.sleep(for: .milliseconds(300))  // stopped well past its liveness
            kill(process.processIdentifier, SIGCONT)

            try await waitUntil("the thawed worker registered again") {
                broker.status.statistics.workersJoined == 3 && broker.status.workers == 2
            }
            #expect(try await client.call("echo", bytes("back"), timeout: .seconds(5)) == bytes("back"))
            let status = try await settledStatus(broker)
            #expect(status.statistics.workersLost == 1)
            #expect(status.statistics.callsRetried == 1)
            #expect(status.statistics.callsFailed == 1, "the non-idempotent call failed once")
            #expect(status.callsInFlight == 0)
            #expect(status.heldPayloads == 0)
            #expect(ranHere.withLock { $0 } == ["3001 attempt 2"], "nothing was dispatched again after the thaw")
            await client.close()
            await other.stop()
        }

        @Test("a frozen worker is told to register again when it wakes, and its non-idempotent call is not sent to it again")
        func frozenWorkerIsToldToRegister() async throws {
            // Must hold, seen from the worker's own side (a raw DEALER that stops reading and
            // heartbeating, as SIGSTOP would make it): it receives the call's REQUEST exactly once;
            // after waking, its late REPLY and HEARTBEAT are answered with DISCONNECT; registered
            // again on a new socket, it is not sent the old call; the caller saw workerLost once.
            let broker = try startBroker()
            defer { broker.stop() }
            let endpoint = broker.endpoints[0]
            let frozen = FrozenWorker()
            async let journal = frozen.run(endpoint, thawWhen: { broker.status.statistics.workersLost >= 1 })
            try await waitUntil("raw worker registered") { broker.status.workers == 1 }
            let client = try GridClient(broker: endpoint, heartbeat: testHeartbeat)
            let outcome: Result<[UInt8], GridError>
            do { outcome = .success(try await client.call("frozen", bytes("once"), timeout: .seconds(10))) } catch {
                outcome = .failure(error)
            }
            guard case .failure(.workerLost) = outcome else {
                Issue.record("expected workerLost, got \(outcome)")
                return
            }
            let seen = await journal
            #expect(seen.failure == nil)
            #expect(seen.requests.count == 1, "the REQUEST was received once: \(seen.requests)")
            #expect(Set(seen.requests.map(\.payload)) == ["once"])
            #expect(seen.disconnectsAfterWaking >= 1, "the woken worker was told to register again")
            #expect(seen.requestsAfterRegistering.isEmpty, "the old call was not sent again: \(seen.requestsAfterRegistering)")
            let status = try await settledStatus(broker)
            #expect(status.statistics.workersJoined == 2)
            #expect(status.statistics.callsSucceeded == 0, "the late REPLY was not forwarded")
            #expect(status.statistics.callsFailed == 1)
            #expect(status.statistics.callsRetried == 0)
            #expect(status.statistics.unknownWorkerMessages >= 1, "the late REPLY came from a worker the broker had dropped")
            #expect(status.callsInFlight == 0)
            await client.close()
        }

        // MARK: Vanishing clients

        @Test("a client that vanishes with calls running and queued is forgotten after its expiry, and the broker stays healthy")
        func vanishedRawClient() async throws {
            // Must hold: the broker keeps the calls until the client's expiry (it cannot see the
            // socket close), then forgets every one (callsInFlight back to 0, no payload held),
            // cancels the running handlers, and the worker's full credit serves new calls.
            let broker = try startBroker()
            defer { broker.stop() }
            let endpoint = broker.endpoints[0]
            let slow = SlowFunction()
            let worker = try await startWorker(broker, concurrency: 4) { slow.register(on: $0) }
            let vanish = WakeFlag()
            let sent = Task.detached {
                await onThread { () -> Bool in
                    guard let context = try? Context(), let socket = try? Socket(context, type: .dealer) else { return false }
                    do {
                        try socket.connect(endpoint)
                        try socket.send(frames: [ProtocolTag.client, [ClientCommand.heartbeat.rawValue]], blocking: true)
                        for id in 1...10 {
                            let header = CallHeader(timeoutMilliseconds: 60_000).encoded
                            try socket.send(
                                frames: [
                                    ProtocolTag.client, [ClientCommand.call.rawValue], .bigEndian(UInt64(id)), bytes("slow"), header,
                                    bytes("hold"),
                                ], blocking: true)
                        }
                        // Alive until told to vanish: heartbeats, as a live client sends them.
                        while !vanish.wait(milliseconds: 100) {
                            try socket.send(frames: [ProtocolTag.client, [ClientCommand.heartbeat.rawValue]], blocking: true)
                        }
                    } catch { return false }
                    return true  // the socket closes here, with linger 0: the client is gone
                }
            }
            try await waitUntil("4 calls running, 6 queued") { broker.status.callsInFlight == 10 && slow.running == 4 }
            vanish.signal()
            #expect(await sent.value)
            try await Task.sleep(for: .milliseconds(300))
            #expect(broker.status.callsInFlight == 10, "the broker cannot see a socket close: it waits for the client's expiry")
            try await waitUntil("the vanished client's calls forgotten", seconds: 15) { broker.status.callsInFlight == 0 }
            try await waitUntil("its running handlers cancelled") { slow.cancelled == 4 }
            let status = try await settledStatus(broker)
            #expect(status.heldPayloads == 0)
            #expect(status.workers == 1)
            #expect(status.statistics.callsSucceeded == 0)
            try await slow.expectFullCredit(broker, slots: 4)
            await worker.stop()
        }

        @Test("a client process killed (SIGKILL) with calls in flight is forgotten after its expiry, and the broker stays healthy")
        func killedClientProcess() async throws {
            // Must hold: as for a vanished socket — the broker forgets the dead process's calls
            // after the client expiry, cancels the running ones, holds no payload, and serves on.
            let broker = try startBroker()
            defer { broker.stop() }
            let endpoint = broker.endpoints[0]
            let slow = SlowFunction()
            let worker = try await startWorker(broker, concurrency: 4) { slow.register(on: $0) }
            let process = try launchZGrid([
                "bench", "rpc", "--connect", endpoint, "--function", "slow", "--size", "4", "--sync", "0", "--pipeline", "20",
                "--pipelined-calls", "1000000", "--log-level", "critical",
            ])
            defer { endProcess(process) }
            try await waitUntil("20 calls in flight from the process") { broker.status.callsInFlight == 20 && slow.running == 4 }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            try await waitUntil("the killed client's calls forgotten", seconds: 15) { broker.status.callsInFlight == 0 }
            try await waitUntil("its running handlers cancelled") { slow.cancelled == 4 }
            let status = try await settledStatus(broker)
            #expect(status.heldPayloads == 0)
            #expect(status.workers == 1)
            try await slow.expectFullCredit(broker, slots: 4)
            await worker.stop()
        }

        // MARK: A flood

        @Test("a flood of slow calls from one client leaves another client's fast calls correct and prompt")
        func floodDoesNotStarveOthers() async throws {
            // Must hold: with 5,000 calls to a slow function queued by one client (its own worker
            // busy), another client's 400 calls to a fast function (served by another worker) all
            // return their own payload, with p99 latency under 2 s (generous: a noisy 2-core
            // machine); the flood is still queued when they finish; closing the flooding client
            // cancels its calls and the broker holds nothing afterwards.
            let broker = try startBroker()
            defer { broker.stop() }
            let endpoint = broker.endpoints[0]
            let slowWorker = try await startWorker(broker, concurrency: 4) { worker in
                worker.register("slow") { request in
                    try await Task.sleep(for: .milliseconds(100))
                    return request.payload
                }
            }
            let fastWorker = try await startWorker(broker, concurrency: 4) { worker in
                worker.register("fast", execution: .ioThread) { $0.payload }
            }
            let flooder = try GridClient(broker: endpoint, heartbeat: testHeartbeat)
            let floodSize = 5_000
            let flood = Task {
                await withTaskGroup(of: Bool.self) { group in
                    for index in 0..<floodSize {
                        group.addTask { (try? await flooder.call("slow", bytes("flood \(index)"), timeout: .seconds(120))) != nil }
                    }
                    var finished = 0
                    for await ok in group where ok { finished += 1 }
                    return finished
                }
            }
            try await waitUntil("the whole flood at the broker", seconds: 60) { broker.status.statistics.callsReceived >= floodSize }

            let caller = try GridClient(broker: endpoint, heartbeat: testHeartbeat)
            let results = await withTaskGroup(of: [(ok: Bool, nanoseconds: UInt64)].self) { group in
                for lane in 0..<4 {
                    group.addTask {
                        var laneResults: [(ok: Bool, nanoseconds: UInt64)] = []
                        for index in 0..<100 {
                            let payload = bytes("fast \(lane).\(index)")
                            let started = MonotonicClock.nowNanoseconds()
                            let reply = try? await caller.call("fast", payload, timeout: .seconds(10))
                            laneResults.append((reply == payload, MonotonicClock.nowNanoseconds() - started))
                        }
                        return laneResults
                    }
                }
                var all: [(ok: Bool, nanoseconds: UInt64)] = []
                for await lane in group { all += lane }
                return all
            }
            let stillQueued = broker.status.callsInFlight
            #expect(results.count == 400)
            let wrong = results.filter { !$0.ok }.count
            #expect(wrong == 0, "every fast call returns its own payload (\(wrong) did not)")
            let latencies = results.map(\.nanoseconds).sorted()
            let p99 = Double(latencies[latencies.count * 99 / 100]) / 1e9
            #expect(p99 < 2, "p99 of the fast calls \(p99) s")
            #expect(stillQueued > floodSize / 2, "the flood was still queued while the fast calls ran (\(stillQueued) in flight)")

            await flooder.close()
            let finished = await flood.value
            #expect(finished < floodSize, "closing the flooder ended its waiting calls")
            try await waitUntil("the flood's calls cancelled at the broker", seconds: 15) { broker.status.callsInFlight == 0 }
            #expect(try await settledStatus(broker).heldPayloads == 0)
            #expect(try await caller.call("slow", bytes("after"), timeout: .seconds(5)) == bytes("after"))
            await caller.close()
            await slowWorker.stop()
            await fastWorker.stop()
        }
    }
}

// MARK: Helpers

/// Writes a cluster.conf whose heartbeat settings are `heartbeat` (``testHeartbeat`` unless told), for `zgrid` child
/// processes talking to a test broker; returns its path.
func writeHeartbeatConfig(_ directory: TemporaryDirectory, heartbeat: HeartbeatSettings = testHeartbeat, extra: String = "") throws
    -> String
{
    let path = directory.file("cluster.conf")
    let text = """
        [broker]
        heartbeat_ms = \(heartbeat.intervalMilliseconds)
        liveness = \(heartbeat.liveness)
        \(extra)
        """
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// Ends a child process: SIGCONT (in case it is stopped), SIGKILL, and waits for it.
///
/// Waits even when the process has already ended: on Linux a `Process` keeps itself alive (its
/// run loop source retains it) until `waitUntilExit()` returns, so one never waited for leaks.
func endProcess(_ process: Process) {
    if process.isRunning {
        kill(process.processIdentifier, SIGCONT)
        kill(process.processIdentifier, SIGKILL)
    }
    process.waitUntilExit()
}

/// A one-shot signal from a test to a blocking peer thread.
final class WakeFlag: Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    func signal() { semaphore.signal() }
    /// Whether the signal came within `milliseconds`.
    func wait(milliseconds: Int) -> Bool { semaphore.wait(timeout: .now() + .milliseconds(milliseconds)) == .success }
}

/// The `slow` function of the vanishing-client tests: payload `quick` answers at once, `check`
/// after 300 ms, anything else after a minute (in effect: when cancelled); counts running and
/// cancelled handlers and the most running at once.
final class SlowFunction: Sendable {
    private let state = Mutex((running: 0, cancelled: 0, peak: 0))

    var running: Int { state.withLock { $0.running } }
    var cancelled: Int { state.withLock { $0.cancelled } }

    func register(on worker: Worker) {
        worker.register("slow") { [self] request in
            let payload = String(decoding: request.payload, as: UTF8.self)
            if payload == "quick" { return request.payload }
            state.withLock {
                $0.running += 1
                $0.peak = max($0.peak, $0.running)
            }
            defer { state.withLock { $0.running -= 1 } }
            do {
                try await Task.sleep(for: payload == "check" ? .milliseconds(300) : .seconds(60))
            } catch {
                state.withLock { $0.cancelled += 1 }
                throw error
            }
            return request.payload
        }
    }

    /// Checks that all `slots` of the worker's credit came back: that many calls run at once.
    func expectFullCredit(_ broker: BrokerServer, slots: Int) async throws {
        state.withLock { $0.peak = 0 }
        let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
        let replies = await withTaskGroup(of: String.self) { group in
            for _ in 0..<slots {
                group.addTask {
                    do {
                        return String(decoding: try await client.call("slow", bytes("check"), timeout: .seconds(10)), as: UTF8.self)
                    } catch {
                        return "\(error)"
                    }
                }
            }
            var replies: [String] = []
            for await reply in group { replies.append(reply) }
            return replies
        }
        let wrong = replies.filter { $0 != "check" }
        #expect(wrong.isEmpty, "calls using the freed credit: \(wrong)")
        #expect(state.withLock { $0.peak } == slots, "all \(slots) slots of the worker's credit are free again")
        #expect(try await client.call("slow", bytes("quick"), timeout: .seconds(5)) == bytes("quick"))
        await client.close()
    }
}

/// A raw worker that freezes: it registers `frozen`, takes one REQUEST, then neither reads nor
/// heartbeats until `thawWhen` holds (the broker declared it lost), then wakes up, sends its late
/// REPLY and a HEARTBEAT, listens, and registers again on a new socket.
struct FrozenWorker {
    struct Request: Sendable {
        let dispatchID: UInt64
        let payload: String
    }

    struct Journal: Sendable {
        var requests: [Request] = []
        var disconnectsAfterWaking = 0
        var requestsAfterRegistering: [Request] = []
        var failure: String?
    }

    func run(_ endpoint: String, thawWhen condition: @escaping @Sendable () -> Bool) async -> Journal {
        await onThread {
            var journal = Journal()
            guard let context = try? Context() else { return journal }
            do {
                let first = try Socket(context, type: .dealer)
                try first.connect(endpoint)
                try first.send(
                    frames: [ProtocolTag.worker, [WorkerCommand.ready.rawValue], .bigEndian(UInt32(2)), bytes("frozen")], blocking: true)
                // Heartbeat and read until the REQUEST arrives.
                let deadline = Date().addingTimeInterval(15)
                var taken: Request?
                while taken == nil, Date() < deadline {
                    try first.send(frames: [ProtocolTag.worker, [WorkerCommand.heartbeat.rawValue]])
                    for frames in try Self.read(first, milliseconds: 100) {
                        if let request = Self.request(frames) {
                            journal.requests.append(request)
                            taken = request
                        }
                    }
                }
                guard let taken else { return journal }
                // Frozen: no reads, no heartbeats, until the broker gave up on this worker.
                let thawDeadline = Date().addingTimeInterval(15)
                while !condition(), Date() < thawDeadline { Thread.sleep(forTimeInterval: 0.02) }
                Thread.sleep(forTimeInterval: 0.2)
                // Awake: the late answer and a heartbeat; everything queued meanwhile is read too.
                try first.send(
                    frames: [ProtocolTag.worker, [WorkerCommand.reply.rawValue], .bigEndian(taken.dispatchID), bytes("late")],
                    blocking: true)
                try first.send(frames: [ProtocolTag.worker, [WorkerCommand.heartbeat.rawValue]], blocking: true)
                for frames in try Self.read(first, milliseconds: 1500) {
                    if frames.count >= 2, frames[0] == ProtocolTag.worker, frames[1] == [WorkerCommand.disconnect.rawValue] {
                        journal.disconnectsAfterWaking += 1
                    }
                    if let request = Self.request(frames) { journal.requests.append(request) }
                }
                // Registered again, on a new socket as the protocol asks.
                let second = try Socket(context, type: .dealer)
                try second.connect(endpoint)
                try second.send(
                    frames: [ProtocolTag.worker, [WorkerCommand.ready.rawValue], .bigEndian(UInt32(2)), bytes("frozen")], blocking: true)
                let listenUntil = Date().addingTimeInterval(1.5)
                while Date() < listenUntil {
                    try second.send(frames: [ProtocolTag.worker, [WorkerCommand.heartbeat.rawValue]])
                    for frames in try Self.read(second, milliseconds: 100) {
                        if let request = Self.request(frames) { journal.requestsAfterRegistering.append(request) }
                    }
                }
            } catch {
                journal.failure = "socket failed: \(error)"
            }
            return journal
        }
    }

    /// Every message that arrives on `socket` within `milliseconds`.
    private static func read(_ socket: borrowing Socket, milliseconds: Int) throws -> [[[UInt8]]] {
        var messages: [[[UInt8]]] = []
        let until = Date().addingTimeInterval(Double(milliseconds) / 1000)
        var poller = Poller([socket.pollItem()])
        while Date() < until {
            try poller.poll(timeoutMilliseconds: 20)
            while let frames = try socket.receiveFrames(blocking: false) { messages.append(frames) }
        }
        return messages
    }

    private static func request(_ frames: [[UInt8]]) -> Request? {
        guard frames.count >= 5, frames[0] == ProtocolTag.worker, frames[1] == [WorkerCommand.request.rawValue], frames[2].count == 8 else {
            return nil
        }
        let id = frames[2].withUnsafeBytes { $0.readBigEndianUInt64() }
        return Request(dispatchID: id, payload: String(decoding: Array(frames[5...].joined()), as: UTF8.self))
    }
}
