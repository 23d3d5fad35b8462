import Foundation
import Synchronization
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZGridWorker
import ZeroMQ

extension IntegrationTests {
    @Suite("Calls over real sockets", .serialized, .timeLimit(.minutes(2)))
    struct CallTests {
        @Test("a call round-trips raw bytes and Codable values over tcp")
        func roundTrip() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            struct Sum: Codable, Sendable { let a: Int; let b: Int }
            let worker = try await startWorker(broker) { worker in
                worker.register("echo") { $0.payload }
                worker.register("add", input: Sum.self) { $0.a + $0.b }
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let payload = (0..<1000).map { UInt8($0 % 251) }
            #expect(try await client.call("echo", payload) == payload)
            #expect(try await client.call("echo", []) == [])
            let sum: Int = try await client.call("add", Sum(a: 40, b: 2))
            #expect(sum == 42)
            await client.close()
            await worker.stop()
            #expect(try await settledCount(broker, \.callsSucceeded, reaching: 3) == 3)
        }

        @Test("thousands of concurrent calls from many tasks over one client all get their own answer")
        func manyConcurrentCalls() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let worker = try await startWorker(broker, concurrency: 16) { $0.register("echo") { $0.payload } }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<50 {
                    group.addTask {
                        for index in 0..<40 {
                            let text = bytes("\(task)-\(index)")
                            let reply = try await client.call("echo", text)
                            #expect(reply == text)
                        }
                    }
                }
                try await group.waitForAll()
            }
            await client.close()
            await worker.stop()
            #expect(try await settledCount(broker, \.callsSucceeded, reaching: 2000) == 2000)
        }

        @Test("a worker never runs more calls at once than its concurrency")
        func concurrencyLimitHolds() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let gauge = ConcurrencyGauge()
            let worker = try await startWorker(broker, concurrency: 3) { worker in
                worker.register("slow") { request in
                    gauge.enter()
                    defer { gauge.leave() }
                    try await Task.sleep(for: .milliseconds(30))
                    return request.payload
                }
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<15 { group.addTask { _ = try await client.call("slow", bytes("\(index)")) } }
                try await group.waitForAll()
            }
            #expect(gauge.peak == 3)
            await client.close()
            await worker.stop()
        }

        @Test("load spreads over the workers that serve a function")
        func loadSpreads() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let first = Counter()
            let second = Counter()
            let one = try await startWorker(broker, concurrency: 2) { worker in
                worker.register("work") { _ in
                    first.increment(); try await Task.sleep(for: .milliseconds(10)); return []
                }
            }
            let two = try await startWorker(broker, concurrency: 2) { worker in
                worker.register("work") { _ in
                    second.increment(); try await Task.sleep(for: .milliseconds(10)); return []
                }
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<40 { group.addTask { _ = try await client.call("work") } }
                try await group.waitForAll()
            }
            #expect(first.count + second.count == 40)
            #expect(first.count >= 12 && second.count >= 12, "uneven spread: \(first.count) and \(second.count)")
            await client.close()
            await one.stop()
            await two.stop()
        }

        @Test("an inline handler answers on the worker's I/O thread, for many concurrent callers, with thrown errors mapped like a task's")
        func inlineHandlers() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let threads = ThreadSet()
            struct Refused: Error, CustomStringConvertible { var description: String { "refused inline" } }
            let worker = try await startWorker(broker, concurrency: 8) { worker in
                worker.registerInline("upper") { request in
                    threads.insert(currentThreadID())
                    return Array(String(decoding: request.payload, as: UTF8.self).uppercased().utf8)
                }
                worker.registerInline("refuse") { _ in throw Refused() }
                worker.registerInline("picky") { _ in throw HandlerFailure(.malformed, "need a number") }
                worker.register("loopThread", execution: .ioThread) { _ in .bigEndian(UInt64(currentThreadID())) }
                worker.register("poolThread", execution: .concurrent) { _ in .bigEndian(UInt64(currentThreadID())) }
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<20 {
                    group.addTask {
                        for index in 0..<25 {
                            let reply = try await client.call("upper", bytes("call \(task).\(index)"))
                            #expect(reply == bytes("CALL \(task).\(index)"))
                        }
                    }
                }
                try await group.waitForAll()
            }
            let loopThread = UInt(uint64(try await client.call("loopThread")))
            let poolThread = UInt(uint64(try await client.call("poolThread")))
            #expect(threads.ids == [loopThread], "every inline call ran on the thread of the worker's .ioThread tasks")
            #expect(loopThread != poolThread, "which is not one of Swift's pool threads")
            await #expect(throws: GridError.handlerError("refused inline")) { _ = try await client.call("refuse") }
            await #expect(throws: GridError.malformed("need a number")) { _ = try await client.call("picky") }
            #expect(try await client.call("upper", bytes("still serving")) == bytes("STILL SERVING"))
            await client.close()
            await worker.stop()
            #expect(try await settledCount(broker, \.callsSucceeded, reaching: 503) == 503)
        }

        @Test("calls work over inproc with a shared context")
        func inproc() async throws {
            let context = try Context()
            let broker = try startBroker(endpoint: "inproc://zgrid-test", context: context)
            defer { broker.stop() }
            let worker = try await startWorker(broker, endpoint: "inproc://zgrid-test", context: context) {
                $0.register("upper") { Array(String(decoding: $0.payload, as: UTF8.self).uppercased().utf8) }
            }
            let client = try GridClient(broker: "inproc://zgrid-test", context: context)
            #expect(try await client.call("upper", bytes("grid")) == bytes("GRID"))
            await client.close()
            await worker.stop()
        }
    }
}

/// The threads something ran on.
final class ThreadSet: Sendable {
    private let state = Mutex<Set<UInt>>([])
    func insert(_ id: UInt) { _ = state.withLock { $0.insert(id) } }
    var ids: Set<UInt> { state.withLock { $0 } }
}

/// The calling thread's `pthread_self()`.
func currentThreadID() -> UInt { UInt(pthread_self()) }
