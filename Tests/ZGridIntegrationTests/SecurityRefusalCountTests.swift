import Foundation
import Testing
import ZGridBroker
import ZGridProtocol
import ZeroMQ

extension IntegrationTests {
    @Suite("security_refusals counts each refused connection once", .serialized, .timeLimit(.minutes(1)))
    struct SecurityRefusalCountTests {
        @Test("one connection with an unknown key is one refusal (ZAP's), not two")
        func unknownKeyCountedOnce() async throws {
            let brokerKeys = try CurveKeyPair.generate()
            let stranger = try CurveKeyPair.generate()
            var configuration = BrokerConfiguration(endpoints: ["tcp://127.0.0.1:0"], options: BrokerOptions(heartbeat: testHeartbeat))
            configuration.security = BrokerSecurity(
                serverKeys: brokerKeys, clientKeys: [try CurveKeyPair.generate().publicKey], workerKeys: [])
            configuration.shutdownGraceMilliseconds = 500
            let broker = try BrokerServer.start(configuration, logger: quietLogger("test.broker"))
            defer { broker.stop() }
            let endpoint = broker.endpoints[0]
            // libzmq does not retry a connection whose key ZAP refused: one socket, one attempt.
            let connected = await onThread { () -> Bool in
                guard let context = try? Context(), let socket = try? Socket(context, type: .dealer) else { return false }
                do {
                    try socket.setLinger(milliseconds: 0)
                    try socket.makeCurveClient(serverKey: brokerKeys.publicKey, keys: stranger)
                    try socket.connect(endpoint)
                    _ = try socket.send(frames: [ProtocolTag.client, [ClientCommand.heartbeat.rawValue]])
                    Thread.sleep(forTimeInterval: 1)
                    return true
                } catch { return false }
            }
            #expect(connected)
            try await waitUntil("the refusal counted") { broker.status.securityRefusals >= 1 }
            try await Task.sleep(for: .milliseconds(300))
            #expect(broker.status.securityRefusals == 1)
        }
    }
}
