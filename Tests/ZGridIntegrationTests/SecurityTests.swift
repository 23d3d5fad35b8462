import Foundation
import Logging
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZGridWorker
import ZeroMQ

extension IntegrationTests {
    @Suite("CURVE security: only listed keys get in, each in its role", .serialized, .timeLimit(.minutes(2)))
    struct SecurityTests {
        struct Keys {
            let broker: CurveKeyPair
            let client: CurveKeyPair
            let worker: CurveKeyPair
            let stranger: CurveKeyPair

            init() throws {
                broker = try CurveKeyPair.generate()
                client = try CurveKeyPair.generate()
                worker = try CurveKeyPair.generate()
                stranger = try CurveKeyPair.generate()
            }
        }

        private func secureBroker(_ keys: Keys) throws -> BrokerServer {
            var configuration = BrokerConfiguration(endpoints: ["tcp://127.0.0.1:0"], options: BrokerOptions(heartbeat: testHeartbeat))
            configuration.security = BrokerSecurity(
                serverKeys: keys.broker, clientKeys: [keys.client.publicKey], workerKeys: [keys.worker.publicKey])
            configuration.shutdownGraceMilliseconds = 500
            return try BrokerServer.start(configuration, logger: quietLogger("test.broker"))
        }

        private func secureWorker(
            _ broker: BrokerServer, _ keys: CurveKeyPair, serverKey: String, logger: Logger = quietLogger("test.worker")
        ) -> (Worker, Task<Void, any Error>) {
            let worker = Worker(
                broker: broker.endpoints[0], heartbeat: testHeartbeat, security: PeerSecurity(serverKey: serverKey, keys: keys),
                logger: logger)
            worker.register("echo") { $0.payload }
            return (worker, Task { try await worker.run() })
        }

        /// Whether a call gets any answer at all within `milliseconds`.
        private func answered(_ client: GridClient, milliseconds: Int) async -> Bool {
            do {
                _ = try await client.call("echo", bytes("hi"), timeout: .milliseconds(milliseconds))
                return true
            } catch .timeout {
                return false
            } catch {
                return true
            }
        }

        @Test("listed keys work; an unknown key, a wrong server key and no CURVE get nothing and are counted")
        func admission() async throws {
            let keys = try Keys()
            let broker = try secureBroker(keys)
            defer { broker.stop() }
            let (worker, task) = secureWorker(broker, keys.worker, serverKey: keys.broker.publicKey)
            try await waitUntil("worker registered") { broker.status.workers == 1 }
            let good = try GridClient(
                broker: broker.endpoints[0], heartbeat: testHeartbeat,
                security: PeerSecurity(serverKey: keys.broker.publicKey, keys: keys.client))
            #expect(try await good.call("echo", bytes("secret")) == bytes("secret"))
            // Well-keyed peers are not counted: each new client is one connection, not a probe and a connection.
            for index in 0..<3 {
                let another = try GridClient(
                    broker: broker.endpoints[0], heartbeat: testHeartbeat,
                    security: PeerSecurity(serverKey: keys.broker.publicKey, keys: keys.client))
                #expect(try await another.call("echo", bytes("\(index)")) == bytes("\(index)"))
                await another.close()
            }
            try await Task.sleep(for: .milliseconds(100))
            #expect(broker.status.securityRefusals == 0, "refusals counted for well-keyed clients")

            let stranger = try GridClient(
                broker: broker.endpoints[0], heartbeat: testHeartbeat,
                security: PeerSecurity(serverKey: keys.broker.publicKey, keys: keys.stranger))
            #expect(await answered(stranger, milliseconds: 400) == false)
            try await waitUntil("unknown key counted") { broker.status.securityRefusals >= 1 }

            let wrongServer = try GridClient(
                broker: broker.endpoints[0], heartbeat: testHeartbeat,
                security: PeerSecurity(serverKey: keys.stranger.publicKey, keys: keys.client))
            let before = broker.status.securityRefusals
            #expect(await answered(wrongServer, milliseconds: 400) == false)
            try await waitUntil("wrong server key counted") { broker.status.securityRefusals > before }

            let plain = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let beforePlain = broker.status.securityRefusals
            #expect(await answered(plain, milliseconds: 400) == false)
            try await waitUntil("plain peer counted") { broker.status.securityRefusals > beforePlain }

            #expect(try await good.call("echo", bytes("still")) == bytes("still"), "the broker keeps serving")
            for client in [good, stranger, wrongServer, plain] { await client.close() }
            worker.stop()
            _ = await task.result
        }

        @Test("a client key cannot register as a worker, and a worker key cannot call: each is told why at once")
        func roles() async throws {
            let keys = try Keys()
            let broker = try secureBroker(keys)
            defer { broker.stop() }
            let log = CapturedLog()
            let (impostor, impostorTask) = secureWorker(
                broker, keys.client, serverKey: keys.broker.publicKey, logger: log.logger("impostor"))
            try await waitUntil("worker READY refused") { broker.status.securityRefusals >= 1 }
            // Told why at once (DISCONNECT with a reason), instead of finding the broker silent.
            try await waitUntil("the impostor logged why") { log.text.contains("the broker refused this worker") }
            #expect(log.text.contains("its CURVE key is listed in its [security] client_keys only, not in worker_keys"), "\(log.text)")
            #expect(broker.status.statistics.workersJoined == 0)
            impostor.stop()
            _ = await impostorTask.result
            let (worker, task) = secureWorker(broker, keys.worker, serverKey: keys.broker.publicKey)
            try await waitUntil("real worker registered") { broker.status.workers == 1 }
            let workerAsClient = try GridClient(
                broker: broker.endpoints[0], heartbeat: testHeartbeat,
                security: PeerSecurity(serverKey: keys.broker.publicKey, keys: keys.worker))
            // Answered at once, saying why, instead of silence until the time limit.
            do {
                _ = try await workerAsClient.call("echo", bytes("hi"), timeout: .seconds(10))
                Issue.record("a worker key called")
            } catch .malformed(let message) {
                #expect(message.contains("worker_keys only, not in client_keys"), "\(message)")
            } catch {
                Issue.record("expected malformed naming the role, got \(error)")
            }
            #expect(broker.status.statistics.callsReceived == 0)
            await workerAsClient.close()
            worker.stop()
            _ = await task.result
        }
    }
}
