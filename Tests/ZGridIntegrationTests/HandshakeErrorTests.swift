import Foundation
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZeroMQ

extension IntegrationTests {
    @Suite("A client whose CURVE handshake fails says why", .serialized, .timeLimit(.minutes(1)))
    struct HandshakeErrorTests {
        /// The error of one call from a client of `endpoint` with `security`, whose handshake fails.
        private func failedCall(_ endpoint: String, _ security: PeerSecurity?) async throws -> String {
            let client = try GridClient(broker: endpoint, heartbeat: testHeartbeat, security: security)
            let result = await outcome { () async throws(GridError) in try await client.call("echo", bytes("hi"), timeout: .seconds(10)) }
            await client.close()
            guard case .failure(.brokerUnreachable(let message)) = result else {
                Issue.record("expected broker unreachable, got \(result)")
                return ""
            }
            return message
        }

        @Test("an unknown key, a wrong server key and no CURVE fail as unreachable with the reason, not as a broker that is down")
        func handshakeFailureReasons() async throws {
            let brokerKeys = try CurveKeyPair.generate()
            let clientKeys = try CurveKeyPair.generate()
            let stranger = try CurveKeyPair.generate()
            var configuration = BrokerConfiguration(endpoints: ["tcp://127.0.0.1:0"], options: BrokerOptions(heartbeat: testHeartbeat))
            configuration.security = BrokerSecurity(serverKeys: brokerKeys, clientKeys: [clientKeys.publicKey], workerKeys: [])
            configuration.shutdownGraceMilliseconds = 500
            let broker = try BrokerServer.start(configuration, logger: quietLogger("test.broker"))
            defer { broker.stop() }

            let unknownKey = try await failedCall(broker.endpoints[0], PeerSecurity(serverKey: brokerKeys.publicKey, keys: stranger))
            #expect(unknownKey.contains("the broker refused this client's CURVE key"), "\(unknownKey)")
            let wrongServer = try await failedCall(broker.endpoints[0], PeerSecurity(serverKey: stranger.publicKey, keys: clientKeys))
            #expect(wrongServer.contains("the security handshake with the broker failed"), "\(wrongServer)")
            let plain = try await failedCall(broker.endpoints[0], nil)
            #expect(
                plain.contains("the handshake with the broker failed: this client has CURVE off; is CURVE on at the broker"), "\(plain)")
        }

        @Test("a client without CURVE pointed at what is no ZeroMQ broker (its metrics endpoint) is not told to check keys")
        func notABroker() async throws {
            let metrics = "tcp://127.0.0.1:\(try freePort())"
            var configuration = BrokerConfiguration(
                endpoints: ["tcp://127.0.0.1:0"], options: BrokerOptions(heartbeat: testHeartbeat), metricsEndpoint: metrics)
            configuration.shutdownGraceMilliseconds = 500
            let broker = try BrokerServer.start(configuration, logger: quietLogger("test.broker"))
            defer { broker.stop() }
            let message = try await failedCall(metrics, nil)
            #expect(message.contains("or is what listens there not a ZGrid broker (such as its metrics endpoint)?"), "\(message)")
            #expect(!message.contains("public key"), "\(message)")
        }

        @Test("zgrid worker with a key the broker refuses says why each time it reconnects")
        func workerKeyRefused() async throws {
            let brokerKeys = try CurveKeyPair.generate()
            var configuration = BrokerConfiguration(endpoints: ["tcp://127.0.0.1:0"], options: BrokerOptions(heartbeat: testHeartbeat))
            configuration.security = BrokerSecurity(
                serverKeys: brokerKeys, clientKeys: [], workerKeys: [try CurveKeyPair.generate().publicKey])
            configuration.shutdownGraceMilliseconds = 500
            let broker = try BrokerServer.start(configuration, logger: quietLogger("test.broker"))
            defer { broker.stop() }
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let stranger = try CurveKeyPair.generate()
            try "public = \"\(stranger.publicKey)\"\nsecret = \"\(stranger.secretKey)\"\n".write(
                toFile: directory.file("stranger.key"), atomically: true, encoding: .utf8)
            let config = directory.file("cluster.conf")
            try """
            [broker]
            connect = "\(broker.endpoints[0])"
            heartbeat_ms = 200
            [jobs]
            store = ""
            [security]
            curve = true
            broker_public_key = "\(brokerKeys.publicKey)"
            worker_key_file = "stranger.key"
            """.write(toFile: config, atomically: true, encoding: .utf8)
            let log = directory.file("worker.err")
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            let worker = try launchZGrid(
                ["worker", "--config", config, "--function", "echo"], standardError: FileHandle(forWritingAtPath: log))
            defer { endProcess(worker) }
            try await waitUntil("the worker said why the broker is silent") {
                readText(log)?.contains("reconnecting; the broker refused this worker's CURVE key") == true
            }
        }
    }
}
