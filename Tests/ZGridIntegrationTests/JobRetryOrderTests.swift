import Foundation
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol

/// The frames of JOB (after the tag): `verb` on job `id`, as request `requestID`.
private func jobFrames(_ requestID: UInt64, _ verb: JobVerb, _ id: UInt64) -> [[UInt8]] {
    [[ClientCommand.job.rawValue], .bigEndian(requestID), [verb.rawValue], .bigEndian(id)]
}

extension IntegrationTests {
    @Suite("JOB commands behind a JOB RETRY, over real sockets and a real SQLite file", .serialized, .timeLimit(.minutes(1)))
    struct JobRetryOrderTests {
        @Test("a JOB CANCEL sent right behind a JOB RETRY is answered after it and cancels the retried job")
        func cancelBehindRetry() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let broker = try startBroker(jobStore: directory.file("jobs.sqlite"))
            defer { broker.stop() }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let id = try await client.submit("work", bytes("x"))
            #expect(try await client.cancel(job: id).state == "cancelled")
            // RETRY then CANCEL, back to back on one connection, before the RETRY can have committed.
            let peer = try RawPeer(broker.endpoints[0], tag: ProtocolTag.client)
            await peer.send(messages: [jobFrames(1, .retry, id), jobFrames(2, .cancel, id)])
            var answers: [(requestID: UInt64, state: String?)] = []
            for _ in 0..<2 {
                let message = try #require(await peer.next())
                #expect(message.count == 3)
                #expect(message.first == [ClientCommand.jobReply.rawValue])
                let answer = try JSONDecoder().decode(JobAnswer.self, from: Data(message[2]))
                answers.append((uint64(message[1]), answer.jobs.first?.state))
            }
            #expect(answers.map(\.requestID) == [1, 2])
            #expect(answers.map(\.state) == ["queued", "cancelled"])
            #expect(try await client.status(job: id).state == "cancelled")
            await client.close()
        }
    }
}
