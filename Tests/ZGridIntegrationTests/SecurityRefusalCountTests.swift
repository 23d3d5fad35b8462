import Foundation
import Testing
import ZGridBroker
import ZGridClient
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

        @Test("hundreds of connections with unknown keys at once: each refused and counted once, the broker keeps serving")
        func manyUnknownKeysAtOnce() async throws {
            let brokerKeys = try CurveKeyPair.generate()
            let clientKeys = try CurveKeyPair.generate()
            var configuration = BrokerConfiguration(endpoints: ["tcp://127.0.0.1:0"], options: BrokerOptions(heartbeat: testHeartbeat))
            configuration.security = BrokerSecurity(serverKeys: brokerKeys, clientKeys: [clientKeys.publicKey], workerKeys: [])
            configuration.shutdownGraceMilliseconds = 500
            let log = CapturedLog()
            let broker = try BrokerServer.start(configuration, logger: log.logger("test.broker"))
            defer { broker.stop() }
            let endpoint = broker.endpoints[0]
            let strangers = 300
            let sent = await onThread { () -> Int in
                guard let context = try? Context() else { return 0 }
                return connectStrangers(strangers, context, endpoint, serverKey: brokerKeys.publicKey)
            }
            #expect(sent == strangers)
            let client = try GridClient(
                broker: endpoint, heartbeat: testHeartbeat, security: PeerSecurity(serverKey: brokerKeys.publicKey, keys: clientKeys))
            _ = try await client.brokerStatus()
            try await waitUntil("every refusal counted", seconds: 30) { broker.status.securityRefusals >= strangers }
            try await Task.sleep(for: .milliseconds(300))
            #expect(broker.status.securityRefusals == strangers)
            #expect(log.text.components(separatedBy: "with unknown key").count - 1 == strangers)
            await client.close()
        }
    }
}

/// Connects `count` DEALER sockets of `context` to `endpoint`, each with a new CURVE key pair the
/// broker does not know, and sends a client HEARTBEAT on each; keeps them open 2 s (sockets cannot
/// be kept in an array: each one stays in its own frame of the recursion). Returns how many it made.
private func connectStrangers(_ count: Int, _ context: Context, _ endpoint: String, serverKey: String) -> Int {
    guard count > 0 else {
        Thread.sleep(forTimeInterval: 2)
        return 0
    }
    guard let socket = try? Socket(context, type: .dealer), let keys = try? CurveKeyPair.generate() else { return 0 }
    try? socket.setLinger(milliseconds: 0)
    try? socket.makeCurveClient(serverKey: serverKey, keys: keys)
    try? socket.connect(endpoint)
    _ = try? socket.send(frames: [ProtocolTag.client, [ClientCommand.heartbeat.rawValue]])
    return 1 + connectStrangers(count - 1, context, endpoint, serverKey: serverKey)
}
