import Testing
import ZGridProtocol
import ZGridWorker

extension IntegrationTests {
    @Suite("Payload frames reaching a handler", .serialized, .timeLimit(.minutes(1)))
    struct WorkerPayloadTests {
        @Test("a handler sees the frames a REQUEST carried, one or several, and the payload they make; inline and task handlers alike")
        func framesAndPayload() async throws {
            let raw = try RawBroker()
            let (worker, _) = try await startWorker(on: raw, concurrency: 2) { worker in
                // Answers "<frame count>:<payload>", so the reply shows both views of the request.
                worker.registerInline("inline") { request in bytes("\(request.frames.count):") + request.payload }
                worker.register("task") { request in bytes("\(request.frames.count):") + request.payload }
            }
            let cases: [(function: String, frames: [[UInt8]], expected: String)] = [
                ("inline", [bytes("one")], "1:one"),
                ("inline", [bytes("ab"), bytes("cd"), bytes("e")], "3:abcde"),
                ("task", [bytes("solo")], "1:solo"),
                ("task", [bytes("x"), bytes("")], "2:x"),
            ]
            for (index, (function, frames, expected)) in cases.enumerated() {
                await raw.request(UInt64(index + 1), function, header: CallHeader(timeoutMilliseconds: 0), frames)
                let answer = WorkerAnswer(await raw.next())
                #expect(answer?.id == UInt64(index + 1))
                #expect(answer?.frames == [bytes(expected)], "\(function) with \(frames.count) frames")
            }
            await worker.stop()
        }
    }
}
