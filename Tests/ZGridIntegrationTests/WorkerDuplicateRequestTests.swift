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

        @Test("a handler given up at a DISCONNECT does not answer the next session's request that reuses its dispatch id")
        func abandonedHandlerDoesNotAnswerTheNextSession() async throws {
            let raw = try RawBroker()
            let ran = Mutex<[String]>([])
            let gate = Mutex(false)
            let (worker, _) = try await startWorker(on: raw, concurrency: 2) { worker in
                worker.register("nap") { request in
                    let text = String(decoding: request.payload, as: UTF8.self)
                    ran.withLock { $0.append(text) }
                    // Both ignore their cancellation until the gate opens; the new one ends last.
                    while !gate.withLock({ $0 }) { try? await Task.sleep(for: .milliseconds(5)) }
                    if text == "new" { try? await Task.sleep(for: .milliseconds(300)) }
                    return request.payload
                }
            }
            let header = CallHeader(timeoutMilliseconds: 10_000)
            await raw.request(1, "nap", header: header, [bytes("old")])
            try await waitUntil("the first session's request runs") { ran.withLock { $0 } == ["old"] }
            // A restarted broker tells the worker to register again, then numbers dispatches from 1 again.
            await raw.send([[WorkerCommand.disconnect.rawValue]])
            raw.forgetWorker()
            let ready = await raw.next()
            #expect(ready?.count ?? 0 >= 2 && ready?[1] == [WorkerCommand.ready.rawValue], "READY again after DISCONNECT")
            await raw.request(1, "nap", header: header, [bytes("new")])
            try await waitUntil("the second session's request runs") { ran.withLock { $0 } == ["old", "new"] }
            gate.withLock { $0 = true }
            let answer = WorkerAnswer(await raw.next())
            #expect(
                answer?.id == 1 && answer?.command == .reply && answer?.frames == [bytes("new")], "answered \(String(describing: answer))")
            await worker.stop()
        }
    }
}
