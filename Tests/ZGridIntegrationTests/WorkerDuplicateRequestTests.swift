import Synchronization
import Testing
import ZGridProtocol
import ZGridWorker

extension IntegrationTests {
    @Suite("A REQUEST repeating a dispatch id the worker runs", .serialized, .timeLimit(.minutes(1)))
    struct WorkerDuplicateRequestTests {
        @Test("a REQUEST whose dispatch id already runs is dropped: its handler does not run again and the id is answered once")
        func duplicateIsDropped() async throws {
            let raw = try RawBroker()
            let ran = Mutex<[String]>([])
            let (worker, _) = try await startWorker(on: raw, concurrency: 2) { worker in
                worker.register("nap") { request in
                    ran.withLock { $0.append(String(decoding: request.payload, as: UTF8.self)) }
                    try await Task.sleep(for: .milliseconds(300))
                    return request.payload
                }
            }
            let header = CallHeader(timeoutMilliseconds: 10_000)
            await raw.request(1, "nap", header: header, [bytes("first")])
            try await waitUntil("the first request runs") { ran.withLock { $0.count } == 1 }
            await raw.request(1, "nap", header: header, [bytes("again")])
            let answer = WorkerAnswer(await raw.next())
            #expect(answer?.id == 1 && answer?.command == .reply && answer?.frames == [bytes("first")])
            // The worker serves on, and answers the next request next: nothing came for the duplicate.
            await raw.request(2, "nap", header: header, [bytes("after")])
            let next = WorkerAnswer(await raw.next())
            #expect(next?.id == 2 && next?.frames == [bytes("after")])
            #expect(ran.withLock { $0 } == ["first", "after"])
            await worker.stop()
        }
    }
}
