import Testing
import ZGridProtocol
import ZGridWorker

extension IntegrationTests.WorkerTimeLimitTests {
    @Test("a handler given up at a DISCONNECT that ignores its cancellation turns stuck and keeps its slot in the next session")
    func givenUpHandlerKeepsItsSlotOnceStuck() async throws {
        let raw = try RawBroker()
        let gate = Gate()
        // Opened at the end, so that the handlers end (they ignore cancellation, without holding a thread).
        defer { gate.open() }
        let (worker, _) = try await startWorker(on: raw, concurrency: 2, stuckGraceMilliseconds: 200) { worker in
            worker.register("spin") { request in
                await gate.wait()
                return request.payload
            }
            worker.register("echo") { $0.payload }
        }
        let header = CallHeader(timeoutMilliseconds: 0)
        await raw.request(1, "spin", header: header, [bytes("old")])
        try await Task.sleep(for: .milliseconds(100))
        // A restarted broker tells the worker to register again: the handler is given up, but runs on.
        await raw.send([[WorkerCommand.disconnect.rawValue]])
        raw.forgetWorker()
        let ready = await raw.next()
        #expect(ready?.count ?? 0 >= 2 && ready?[1] == [WorkerCommand.ready.rawValue], "READY again after DISCONNECT")
        try await waitUntil("the given-up handler counted as stuck") { worker.worker.stuckHandlers == 1 }
        // One slot of two is held by the stuck handler: one request runs, the next is refused.
        await raw.request(1, "spin", header: header, [bytes("new")])
        try await Task.sleep(for: .milliseconds(100))
        await raw.request(2, "echo", header: header, [bytes("hi")])
        let busy = WorkerAnswer(await raw.next())
        #expect(busy?.id == 2)
        #expect(busy?.error?.code == .busy)
        #expect(busy?.error?.message.contains("1 of its 2 slots are held by stuck handlers") == true, "\(String(describing: busy?.error))")
        // Once the other slot is stuck too, every slot is: the worker says DISCONNECT and throws.
        await raw.send([[WorkerCommand.cancel.rawValue], .bigEndian(UInt64(1))])
        let goodbye = await raw.next()
        #expect(goodbye == [ProtocolTag.worker, [WorkerCommand.disconnect.rawValue]])
        await #expect(throws: WorkerError.allSlotsStuck(2)) { try await worker.task.value }
        #expect(worker.worker.stuckHandlers == 2)
    }
}
