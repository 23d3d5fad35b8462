import Foundation
import Synchronization
import Testing
import ZGridProtocol
import ZGridWorker
import ZeroMQ

extension IntegrationTests {
    /// The worker side of batch-capable functions, against a raw ROUTER socket playing the broker.
    @Suite("Batch functions on the worker", .serialized, .timeLimit(.minutes(2)))
    struct WorkerBatchTests {
        /// Items whose payload is "bad" fail; the others succeed with their job, attempt and payload.
        @Sendable static func perItem(_ items: [BatchItem]) -> [BatchItemResult] {
            items.map { item in
                item.payload == bytes("bad")
                    ? .failure(HandlerFailure(.handlerError, "bad item \(item.job)"))
                    : .success(bytes("ok:\(item.job)/\(item.attempt):") + item.payload)
            }
        }

        /// The header of a batch REQUEST.
        static let batchHeader = CallHeader(flags: CallHeader.batchFlag, timeoutMilliseconds: 5_000)

        /// The result frames of a batch REPLY, decoded.
        static func results(_ answer: WorkerAnswer?) -> [BatchResult?] {
            (answer?.frames ?? []).map { frame in frame.withUnsafeBytes { BatchResult(decoding: $0) } }
        }

        @Test("READY announces the batch limits and a batch of 3 gets one result per item, in order")
        func batchRoundTrip() async throws {
            let raw = try RawBroker()
            let sizes = Mutex<[Int]>([])
            let (worker, ready) = try await startWorker(on: raw) { worker in
                worker.registerBatch("index", maxItems: 8, maxWait: .milliseconds(50)) { items in
                    sizes.withLock { $0.append(items.count) }
                    return Self.perItem(items)
                }
                worker.register("echo") { $0.payload }
            }
            #expect(ready.dropFirst(3).map { String(decoding: $0, as: UTF8.self) } == ["echo", "index+batch=8/50"])
            let items = [BatchItems.Item(job: 101, attempt: 1), .init(job: 102, attempt: 2), .init(job: 103, attempt: 1)]
            await raw.request(10, "index", header: Self.batchHeader, [BatchItems.encode(items), bytes("a"), bytes("bad"), bytes("c")])
            let answer = WorkerAnswer(await raw.next())
            #expect(answer?.command == .reply)
            #expect(answer?.id == 10)
            #expect(
                Self.results(answer) == [
                    .success(bytes("ok:101/1:a")), .failure(.handlerError, "bad item 102"), .success(bytes("ok:103/1:c")),
                ])
            #expect(sizes.withLock { $0 } == [3], "one batch, one handler run")
            await worker.stop()
        }

        @Test("a plain REQUEST to a batch function runs the handler with one item and answers with its result")
        func plainRequestToBatchFunction() async throws {
            let raw = try RawBroker()
            let sizes = Mutex<[Int]>([])
            let (worker, _) = try await startWorker(on: raw) { worker in
                worker.registerBatch("index", maxItems: 4, maxWait: .zero) { items in
                    sizes.withLock { $0.append(items.count) }
                    return Self.perItem(items)
                }
            }
            // A job attempt sent on its own: its job id and attempt reach the handler.
            await raw.request(20, "index", header: CallHeader(attempt: 2, timeoutMilliseconds: 5_000, job: 77), [bytes("x")])
            let job = WorkerAnswer(await raw.next())
            #expect(job?.command == .reply)
            #expect(job?.frames == [bytes("ok:77/2:x")])
            // A plain call (no job id): the item's failure becomes the call's ERROR.
            await raw.request(21, "index", header: CallHeader(timeoutMilliseconds: 5_000), [bytes("bad")])
            let call = WorkerAnswer(await raw.next())
            #expect(call?.id == 21)
            #expect(call?.error?.code == .handlerError)
            #expect(call?.error?.message == "bad item 0")
            #expect(sizes.withLock { $0 } == [1, 1])
            await worker.stop()
        }

        @Test("a malformed batch gets ERROR malformed without running the handler")
        func malformedBatches() async throws {
            let raw = try RawBroker()
            let runs = Counter()
            let (worker, _) = try await startWorker(on: raw) { worker in
                worker.registerBatch("index", maxItems: 4, maxWait: .milliseconds(10)) { items in
                    runs.increment()
                    return Self.perItem(items)
                }
                worker.register("echo") { $0.payload }
            }
            let two = BatchItems.encode([.init(job: 1, attempt: 1), .init(job: 2, attempt: 1)])
            let bad: [(String, [[UInt8]])] = [
                ("index", []),  // no items frame
                ("index", [Array(repeating: 0, count: 10), bytes("a")]),  // not a whole number of items
                ("index", [[], bytes("a")]),  // no items
                ("index", [two, bytes("a")]),  // fewer payloads than items
                ("index", [two, bytes("a"), bytes("b"), bytes("c")]),  // more payloads than items
                ("echo", [BatchItems.encode([.init(job: 1, attempt: 1)]), bytes("a")]),  // not a batch function
            ]
            for (offset, (function, frames)) in bad.enumerated() {
                let id = UInt64(30 + offset)
                await raw.request(id, function, header: Self.batchHeader, frames)
                let answer = WorkerAnswer(await raw.next())
                #expect(answer?.id == id)
                #expect(answer?.error?.code == .malformed, "case \(offset)")
            }
            #expect(runs.count == 0)
            // The slots were not taken: a good batch still runs.
            await raw.request(40, "index", header: Self.batchHeader, [two, bytes("a"), bytes("b")])
            #expect(Self.results(WorkerAnswer(await raw.next())) == [.success(bytes("ok:1/1:a")), .success(bytes("ok:2/1:b"))])
            await worker.stop()
        }

        @Test("a wrong number of results or a thrown error fails the whole batch with one ERROR")
        func wholeBatchFailures() async throws {
            let raw = try RawBroker()
            struct Broken: Error, CustomStringConvertible {
                var description: String { "the index is offline" }
            }
            let (worker, _) = try await startWorker(on: raw) { worker in
                worker.registerBatch("short", maxItems: 4, maxWait: .milliseconds(10)) { items in
                    Array(Self.perItem(items).dropLast())
                }
                worker.registerBatch("broken", maxItems: 4, maxWait: .milliseconds(10)) { _ in throw Broken() }
            }
            let two = BatchItems.encode([.init(job: 1, attempt: 1), .init(job: 2, attempt: 1)])
            await raw.request(50, "short", header: Self.batchHeader, [two, bytes("a"), bytes("b")])
            let short = WorkerAnswer(await raw.next())
            #expect(short?.id == 50)
            #expect(short?.error?.code == .handlerError)
            #expect(short?.error?.message.contains("returned 1 results for 2 items") == true)
            await raw.request(51, "broken", header: Self.batchHeader, [two, bytes("a"), bytes("b")])
            let broken = WorkerAnswer(await raw.next())
            #expect(broken?.id == 51)
            #expect(broken?.error?.code == .handlerError)
            #expect(broken?.error?.message == "the index is offline")
            await worker.stop()
        }

        @Test("a batch past its time limit is cancelled and answered with TIMEOUT")
        func batchTimeLimit() async throws {
            let raw = try RawBroker()
            let (worker, _) = try await startWorker(on: raw) { worker in
                worker.registerBatch("slow", maxItems: 4, maxWait: .milliseconds(10)) { items in
                    try? await Task.sleep(for: .seconds(10))
                    return Self.perItem(items)
                }
            }
            var header = Self.batchHeader
            header.timeoutMilliseconds = 200
            let started = Date()
            await raw.request(60, "slow", header: header, [BatchItems.encode([.init(job: 1, attempt: 1)]), bytes("a")])
            let answer = WorkerAnswer(await raw.next())
            #expect(Date().timeIntervalSince(started) < 1.5)
            #expect(answer?.error?.code == .timeout)
            #expect(answer?.error?.message == "'slow' did not finish within its time limit")
            await worker.stop()
        }

        @Test("batch limits out of range make run() throw before connecting", arguments: [(0, 10), (49, 10), (8, 60_001), (8, -1)])
        func invalidLimits(maxItems: Int, maxWaitMilliseconds: Int) async {
            let worker = Worker(broker: "tcp://127.0.0.1:1", logger: quietLogger("test.worker"))
            worker.registerBatch("index", maxItems: maxItems, maxWait: .milliseconds(maxWaitMilliseconds)) { Self.perItem($0) }
            await #expect(throws: WorkerError.invalidBatchLimits("index", maxItems: maxItems, maxWaitMilliseconds: maxWaitMilliseconds)) {
                try await worker.run()
            }
        }
    }
}
