import Foundation
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZGridWorker
import ZeroMQ

extension IntegrationTests {
    @Suite("With CURVE, only a worker's own key resumes its session", .serialized, .timeLimit(.minutes(2)))
    struct ResumeKeyTests {
        @Test("a worker with another key naming a worker's identity in a resuming READY takes none of its calls")
        func resumeWithAnotherKeyIsRefused() async throws {
            let brokerKeys = try CurveKeyPair.generate()
            let clientKeys = try CurveKeyPair.generate()
            let victimKeys = try CurveKeyPair.generate()
            let hostileKeys = try CurveKeyPair.generate()
            var configuration = BrokerConfiguration(endpoints: ["tcp://127.0.0.1:0"], options: BrokerOptions(heartbeat: testHeartbeat))
            configuration.security = BrokerSecurity(
                serverKeys: brokerKeys, clientKeys: [clientKeys.publicKey], workerKeys: [victimKeys.publicKey, hostileKeys.publicKey])
            configuration.shutdownGraceMilliseconds = 500
            let broker = try BrokerServer.start(configuration, logger: quietLogger("test.broker"))
            defer { broker.stop() }
            let gate = Gate()
            let victim = Worker(
                broker: broker.endpoints[0], heartbeat: testHeartbeat,
                security: PeerSecurity(serverKey: brokerKeys.publicKey, keys: victimKeys), logger: quietLogger("test.victim"))
            victim.register("hold") { request in
                await gate.wait()
                return request.payload
            }
            let victimTask = Task { try await victim.run() }
            defer { gate.open() }
            try await waitUntil("the victim registered") { broker.status.workers == 1 }
            let client = try GridClient(
                broker: broker.endpoints[0], heartbeat: testHeartbeat,
                security: PeerSecurity(serverKey: brokerKeys.publicKey, keys: clientKeys))
            let call = Task { try await client.call("hold", bytes("mine"), timeout: .seconds(30)) }
            try await waitUntil("the call runs on the victim") { broker.status.callsInFlight == 1 }
            let victimID = try #require(try await client.brokerStatus().workers.first?.id)
            // The hostile peer names the victim's identity (as `zgrid status` shows it) and the
            // dispatch ids the broker gave first.
            let hostile = try RawPeer(
                broker.endpoints[0], tag: ProtocolTag.worker, security: PeerSecurity(serverKey: brokerKeys.publicKey, keys: hostileKeys))
            var concurrency: [UInt8] = []
            concurrency.appendBigEndian(UInt32(4))
            concurrency.appendBigEndian(WorkerCapabilities.resuming.rawValue)
            let resume = SessionResume.frames(previous: try #require(hexBytes(victimID)), running: [1, 2, 3, 4])
            await hostile.send([[WorkerCommand.ready.rawValue], concurrency] + resume + [bytes("hold")])
            try await waitUntil("the hostile peer registered") { broker.status.statistics.workersJoined == 2 }
            let workers = try await client.brokerStatus().workers
            #expect(workers.contains { $0.id == victimID && $0.inFlight == 1 }, "\(workers)")
            #expect(broker.status.statistics.workersLost == 0)
            gate.open()
            #expect(try await call.value == bytes("mine"), "the victim's call did not end with its answer")
            #expect(broker.status.workers == 2)
            try await waitUntil("the refused resume counted") { broker.status.securityRefusals == 1 }
            await client.close()
            victim.stop()
            _ = await victimTask.result
        }
    }
}

/// The bytes of a hexadecimal string (a worker id as `zgrid status` shows it); nil if it is not one.
private func hexBytes(_ text: String) -> [UInt8]? {
    let digits = Array(text.utf8)
    guard digits.count % 2 == 0 else { return nil }
    return stride(from: 0, to: digits.count, by: 2).compactMap { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16) }
}
