import Foundation
import Synchronization
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZGridWorker

extension IntegrationTests {
    @Suite("Calls of one function for many inputs (callEach)", .serialized, .timeLimit(.minutes(2)))
    struct CallEachTests {
        /// Inputs that count how many were read, as the client's I/O thread reads them.
        struct CountedInputs: Sequence, Sendable {
            let count: Int
            let reads: Counter

            func makeIterator() -> AnyIterator<[UInt8]> {
                var index = 0
                return AnyIterator {
                    guard index < count else { return nil }
                    defer { index += 1 }
                    reads.increment()
                    return bytes("input-\(index)")
                }
            }
        }

        @Test("every input gets one outcome with its own reply, and no more than inFlight calls run at once")
        func everyInputAnswered() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let gauge = ConcurrencyGauge()
            let worker = try await startWorker(broker, concurrency: 64) { worker in
                worker.register("echo") { request in
                    gauge.enter()
                    defer { gauge.leave() }
                    try await Task.sleep(for: .milliseconds(1))
                    return request.payload
                }
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let inputs = (0..<3000).map { bytes("input-\($0)") }
            var seen = Set<Int>()
            for try await outcome in try client.callEach("echo", inputs, inFlight: 20) {
                #expect(seen.insert(outcome.index).inserted, "input \(outcome.index) answered twice")
                #expect(try outcome.result.get() == inputs[outcome.index])
            }
            #expect(seen.count == 3000)
            #expect(gauge.peak <= 20, "\(gauge.peak) calls ran at once with inFlight 20")
            #expect(gauge.peak > 1, "the calls did not overlap")
            #expect(try await settledCount(broker, \.callsSucceeded, reaching: 3000) == 3000)
            await client.close()
            await worker.stop()
        }

        @Test("inputs made by index as their turn comes")
        func inputsByIndex() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let worker = try await startWorker(broker, concurrency: 32) { $0.register("echo") { $0.payload } }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let made = Counter()
            let results = try client.callEach("echo", count: 5000, inFlight: 10) { index in
                made.increment()
                return bytes("input-\(index)")
            }
            try await waitUntil("making stalls") { made.count >= 1024 }
            try await Task.sleep(for: .milliseconds(300))
            #expect(made.count <= 1024 + 10, "\(made.count) inputs made with nobody taking outcomes")
            let outcomes = try await results.inInputOrder()
            #expect(outcomes.count == 5000)
            for (index, outcome) in outcomes.enumerated() { #expect(try outcome.get() == bytes("input-\(index)")) }
            #expect(try await client.callEach("echo", count: 0) { _ in [] }.inInputOrder().isEmpty)
            await client.close()
            await worker.stop()
        }

        @Test("a call that fails is that input's outcome; the others go on")
        func failuresAreOutcomes() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            struct Odd: Error, CustomStringConvertible { var description: String { "odd input" } }
            let worker = try await startWorker(broker) { worker in
                worker.register("even") { request in
                    guard let last = request.payload.last, last % 2 == 0 else { throw Odd() }
                    return request.payload
                }
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let outcomes = try await client.callEach("even", (0..<100).map { [UInt8($0)] }, inFlight: 7).inInputOrder()
            #expect(outcomes.count == 100)
            for (index, outcome) in outcomes.enumerated() {
                if index % 2 == 0 {
                    #expect(try outcome.get() == [UInt8(index)])
                } else {
                    #expect(outcome == .failure(.handlerError("odd input")), "input \(index): \(outcome)")
                }
            }
            // A function no worker serves fails each input, after the broker's grace.
            let unknown = try await client.callEach("nobody", [[1], [2]], timeout: .seconds(5)).inInputOrder()
            for outcome in unknown {
                guard case .failure(.unknownFunction) = outcome else {
                    Issue.record("expected unknownFunction, got \(outcome)")
                    continue
                }
            }
            await client.close()
            await worker.stop()
        }

        @Test("the inputs are read as the window opens, and no further while the consumer does not take outcomes")
        func slowConsumerBoundsReading() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let worker = try await startWorker(broker, concurrency: 32) { $0.register("echo") { $0.payload } }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let reads = Counter()
            let results = try client.callEach("echo", CountedInputs(count: 5000, reads: reads), inFlight: 10)
            // Nobody takes outcomes yet: the run stops reading at the held limit (1024) plus its window.
            try await waitUntil("reading stalls") { reads.count >= 1024 }
            try await Task.sleep(for: .milliseconds(300))
            #expect(reads.count <= 1024 + 10, "\(reads.count) inputs read with nobody taking outcomes")
            var count = 0
            for try await outcome in results {
                #expect(try outcome.result.get() == bytes("input-\(outcome.index)"))
                count += 1
            }
            #expect(count == 5000)
            #expect(reads.count == 5000)
            await client.close()
            await worker.stop()
        }

        @Test("stopping early cancels the calls in the grid and reads no more inputs")
        func stoppingEarlyCancels() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let cancelled = Counter()
            let worker = try await startWorker(broker, concurrency: 16) { worker in
                worker.register("slow") { request in
                    if request.payload == [0] { return request.payload }  // input 0 answers at once
                    do {
                        try await Task.sleep(for: .seconds(5))
                    } catch {
                        cancelled.increment()
                        throw error
                    }
                    return request.payload
                }
                worker.register("echo") { $0.payload }
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let reads = Counter()
            let task = Task {
                for try await _ in try client.callEach("slow", CountedInputs(count: 1000, reads: reads), inFlight: 8) {}
            }
            try await waitUntil("eight running") { broker.status.callsInFlight == 8 }
            task.cancel()
            guard case .failure(let error) = await task.result, case .cancelled? = error as? GridError else {
                Issue.record("the cancelled iteration did not throw cancelled")
                return
            }
            try await waitUntil("the calls are cancelled on the worker") { cancelled.count == 8 }
            try await waitUntil("the broker forgot them") { broker.status.callsInFlight == 0 }
            #expect(reads.count == 8)

            // Breaking out of the loop while the results are still held cancels too.
            cancelled.reset()
            let held = try client.callEach("slow", (0..<100).map { [UInt8($0)] }, inFlight: 8)
            try await waitUntil("eight more running") { broker.status.callsInFlight == 8 }
            for try await _ in held { break }
            try await waitUntil("the held run's calls are cancelled (\(cancelled.count), \(broker.status.callsInFlight) in flight)") {
                cancelled.count == 8 && broker.status.callsInFlight == 0
            }
            await #expect(throws: GridError.invalidArgument("the outcomes of a callEach run can be iterated once")) {
                for try await _ in held {}
            }
            // The client goes on serving calls.
            #expect(try await client.call("echo", bytes("after")) == bytes("after"))
            await client.close()
            await worker.stop()
        }

        @Test("an answer BUSY with a retry-after time is tried again, as a single call is")
        func busyIsRetried() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            var options = BrokerOptions(functions: ["slow": FunctionPolicy(maxQueued: 1)])
            options.heartbeat = testHeartbeat
            var configuration = BrokerConfiguration(endpoints: ["tcp://127.0.0.1:0"], options: options)
            configuration.shutdownGraceMilliseconds = 500
            let broker = try BrokerServer.start(configuration, logger: quietLogger("test.broker"))
            defer { broker.stop() }
            let worker = try await startWorker(broker, concurrency: 1) { worker in
                worker.register("slow") { request in
                    try await Task.sleep(for: .milliseconds(60))
                    return request.payload
                }
            }
            // One runs, one queues, the others are refused BUSY at first.
            let patient = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat, busyRetries: 20)
            let outcomes = try await patient.callEach("slow", (0..<5).map { [UInt8($0)] }, timeout: .seconds(20)).inInputOrder()
            for (index, outcome) in outcomes.enumerated() { #expect(try outcome.get() == [UInt8(index)]) }
            #expect(broker.status.statistics.admissionRefusals > 0, "nothing was refused: the test did not test retrying")
            // Without retries, the refusals are outcomes.
            let impatient = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat, busyRetries: 0)
            let refused = try await impatient.callEach("slow", (0..<5).map { [UInt8($0)] }, timeout: .seconds(20)).inInputOrder()
            let busy = refused.filter { if case .failure(.busy) = $0 { true } else { false } }
            #expect(busy.count >= 1 && busy.count <= 3, "\(busy.count) of 5 refused")
            await patient.close()
            await impatient.close()
            await worker.stop()
        }

        @Test("calls and runs started as the client closes are all answered")
        func closeRace() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let worker = try await startWorker(broker) { $0.register("echo") { $0.payload } }
            let answered = Counter()
            for round in 0..<1000 {
                let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
                let callers = (0..<8).map { caller in
                    Task {
                        while true {
                            if caller % 2 == 0 {
                                guard (try? await client.call("echo", [1])) != nil else { break }
                            } else {
                                guard (try? await client.callEach("echo", [[1]], inFlight: 1).inInputOrder()) != nil else { break }
                            }
                        }
                        answered.increment()
                    }
                }
                try await Task.sleep(for: .microseconds(100 * (round % 30)))
                await client.close()
                let finished = Task {
                    for caller in callers { await caller.value }
                }
                let watchdog = Task {
                    try await Task.sleep(for: .seconds(5))
                    Issue.record("round \(round): a call or run started as the client closed was never answered")
                    for caller in callers { caller.cancel() }
                }
                await finished.value
                watchdog.cancel()
            }
            #expect(answered.count == 8000)
            await worker.stop()
        }

        @Test(
            "calls and callEach runs past the broker's limit of calls in flight per client wait for it, unrefused; a client that ignores it is refused"
        )
        func perClientLimit() async throws {
            let broker = try startBroker(maxInFlightPerClient: 8)
            defer { broker.stop() }
            let worker = try await startWorker(broker, concurrency: 32) { worker in
                worker.register("slow") { request in
                    try await Task.sleep(for: .milliseconds(10))
                    return request.payload
                }
                worker.register("nap") { request in
                    try await Task.sleep(for: .seconds(1))
                    return request.payload
                }
            }
            // The client keeps within the limit its broker says: nothing is refused, nothing retried.
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat, busyRetries: 0)
            let replies = try await withThrowingTaskGroup(of: [UInt8].self) { group in
                for index in 0..<24 { group.addTask { try await client.call("slow", bytes("call-\(index)")) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(replies.count == 24)
            let outcomes = try await client.callEach("slow", (0..<60).map { bytes("each-\($0)") }, inFlight: 20).inInputOrder()
            #expect(outcomes.allSatisfy { (try? $0.get()) != nil }, "\(outcomes.filter { (try? $0.get()) == nil })")
            #expect(try await settledStatus(broker).statistics.admissionRefusals == 0)

            // A client that sends 24 calls at once anyway gets 16 refused BUSY (the 8 taken run for a
            // second), saying what the limit is and what to do about it.
            let calls = (0..<24).map { index in
                [
                    ProtocolTag.client, [ClientCommand.call.rawValue], .bigEndian(UInt64(index + 1)), bytes("nap"),
                    CallHeader(timeoutMilliseconds: 30_000).encoded, [1],
                ]
            }
            let answered = Counter()
            let answers = await rawClientAnswers(broker.endpoints[0], sending: calls) { _ in
                answered.increment()
                return answered.count == 24
            }
            let busy = answers.filter { $0.code == ErrorCode.busy.rawValue }
            #expect(answers.count == 24 && busy.count == 16, "\(answers)")
            #expect(
                busy.allSatisfy {
                    $0.text.contains("this client has 8 calls and scatters in flight, the most the broker allows one client")
                        && $0.text.contains("keep fewer in flight at once") && $0.text.contains("several clients")
                }, "\(busy.first?.text ?? "")")
            await client.close()
            await worker.stop()
        }

        struct Point: Codable, Sendable, Equatable {
            var x: Double
            var y: Double
        }

        @Test("Codable inputs and outputs: replies decoded in input order, a reply that does not decode is its input's coding error")
        func codable() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let worker = try await startWorker(broker, concurrency: 16) { worker in
                worker.register("mirror", input: Point.self) { point in Point(x: point.y, y: point.x) }
                worker.register("odd") { request in
                    // Valid JSON for a Point only when the input's x is even.
                    let point = try JSONDecoder().decode(Point.self, from: Data(request.payload))
                    return Int(point.x) % 2 == 0 ? request.payload : Array("not json".utf8)
                }
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let points = (0..<500).map { Point(x: Double($0), y: Double(-$0)) }
            let mirrored = try await client.callEach("mirror", points, returning: Point.self, inFlight: 32).inInputOrder()
            #expect(try mirrored.map { try $0.get() } == points.map { Point(x: $0.y, y: $0.x) })

            var failures = 0
            for try await outcome in try client.callEach("odd", points, returning: Point.self) {
                switch outcome.result {
                case .success(let point):
                    #expect(outcome.index % 2 == 0)
                    #expect(point == points[outcome.index])
                case .failure(.coding(let message)):
                    #expect(outcome.index % 2 == 1)
                    #expect(message.contains("'odd'"))
                    failures += 1
                case .failure(let error):
                    Issue.record("unexpected failure \(error)")
                }
            }
            #expect(failures == 250)
            await client.close()
            await worker.stop()
        }

        @Test("an input that cannot be encoded throws before any call is sent")
        func codableInputThatCannotBeEncoded() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let points = [Point(x: 1, y: 2), Point(x: .nan, y: 0), Point(x: 3, y: 4)]
            #expect {
                _ = try client.callEach("mirror", points, returning: Point.self)
            } throws: { error in
                guard case .coding(let message) = error as? GridError else { return false }
                return message.contains("input 1")
            }
            try await Task.sleep(for: .milliseconds(100))
            #expect(broker.status.statistics.callsReceived == 0)
            await client.close()
        }

        @Test("closing the client ends a run with an error; bad arguments are refused at once")
        func closeAndArguments() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let worker = try await startWorker(broker) { worker in
                worker.register("slow") { request in
                    try await Task.sleep(for: .seconds(5))
                    return request.payload
                }
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            #expect(throws: GridError.self) { try client.callEach("echo", [[UInt8]](), inFlight: 0) }
            #expect(throws: GridError.self) { try client.callEach("echo", [[UInt8]](), inFlight: GridClient.maxInFlight + 1) }
            #expect(throws: GridError.self) { try client.callEach("echo", count: -1) { _ in [] } }
            #expect(throws: GridError.self) { try client.callEach("bad name", [[1]]) }
            let empty = try await client.callEach("echo", [[UInt8]]()).inInputOrder()
            #expect(empty.isEmpty)
            let results = try client.callEach("slow", Array(repeating: [1], count: 10), inFlight: 4)
            try await waitUntil("running") { broker.status.callsInFlight == 4 }
            await client.close()
            await #expect(throws: GridError.closed) { for try await _ in results {} }
            await worker.stop()
        }
    }
}
