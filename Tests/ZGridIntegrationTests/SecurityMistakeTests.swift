import Foundation
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZGridWorker
import ZeroMQ

extension IntegrationTests {
    @Suite("CURVE keys in the wrong role are refused at start, not met with silence", .serialized, .timeLimit(.minutes(1)))
    struct SecurityMistakeTests {
        /// The key mistakes a client or worker can make on its own, each with the words its error must contain.
        static func peerMistakes(broker: CurveKeyPair, own: CurveKeyPair) -> [(PeerSecurity, String)] {
            [
                (PeerSecurity(serverKey: broker.publicKey, keys: broker), "uses the broker's own CURVE key pair"),
                (
                    PeerSecurity(serverKey: broker.publicKey, keys: CurveKeyPair(publicKey: own.publicKey, secretKey: broker.secretKey)!),
                    "does not belong to its secret key"
                ),
                (PeerSecurity(serverKey: own.secretKey, keys: own), "is its own CURVE secret key"),
            ]
        }

        /// Records an issue unless `message`, the text of the error thrown (nil when none was), has `words`.
        static func expect(_ message: String?, contains words: String) {
            guard let message else {
                Issue.record("nothing refused the mistake that should say \(words)")
                return
            }
            #expect(message.contains(words), "\(message)")
        }

        @Test("a client given the broker's key pair, a mixed pair or its own secret as the server key throws invalidArgument at once")
        func clientMistakes() throws {
            let broker = try CurveKeyPair.generate()
            let endpoint = "tcp://127.0.0.1:\(try freePort())"
            for (security, words) in Self.peerMistakes(broker: broker, own: try CurveKeyPair.generate()) {
                var message: String?
                do { _ = try GridClient(broker: endpoint, security: security) } catch .invalidArgument(let text) {
                    message = text
                } catch { message = "not invalidArgument: \(error)" }
                Self.expect(message, contains: words)
            }
        }

        @Test("a worker given the broker's key pair, a mixed pair or its own secret as the server key throws from run() at once")
        func workerMistakes() async throws {
            let broker = try CurveKeyPair.generate()
            let endpoint = "tcp://127.0.0.1:\(try freePort())"
            for (security, words) in Self.peerMistakes(broker: broker, own: try CurveKeyPair.generate()) {
                let worker = Worker(broker: endpoint, security: security, logger: quietLogger("test.worker"))
                worker.register("echo") { $0.payload }
                var message: String?
                do { try await worker.run() } catch .invalidSecurity(let text) { message = text } catch {
                    message = "not invalidSecurity: \(error)"
                }
                Self.expect(message, contains: words)
            }
        }

        @Test("a broker given a client's or a worker's key pair, or a mixed pair, refuses to start")
        func brokerMistakes() throws {
            let (client, worker, other) = (try CurveKeyPair.generate(), try CurveKeyPair.generate(), try CurveKeyPair.generate())
            let cases: [(CurveKeyPair, String)] = [
                (client, "is listed in client_keys"), (worker, "is listed in worker_keys"),
                (CurveKeyPair(publicKey: other.publicKey, secretKey: client.secretKey)!, "does not belong to its secret key"),
            ]
            for (serverKeys, words) in cases {
                var configuration = BrokerConfiguration(endpoints: ["tcp://127.0.0.1:0"])
                configuration.security = BrokerSecurity(
                    serverKeys: serverKeys, clientKeys: [client.publicKey], workerKeys: [worker.publicKey])
                var message: String?
                do { try BrokerServer.start(configuration, logger: quietLogger("test.broker")).stop() } catch .invalidSecurity(let text) {
                    message = text
                } catch { message = "not invalidSecurity: \(error)" }
                Self.expect(message, contains: words)
            }
        }

        @Test("a broker whose own secret key is listed in client_keys or worker_keys refuses to start, without printing it")
        func brokerSecretKeyListed() throws {
            let broker = try CurveKeyPair.generate()
            let other = try CurveKeyPair.generate().publicKey
            for (clientKeys, workerKeys, setting) in [
                ([broker.secretKey], [other], "client_keys"), ([other], [broker.secretKey, other], "worker_keys"),
            ] {
                var configuration = BrokerConfiguration(endpoints: ["tcp://127.0.0.1:0"])
                configuration.security = BrokerSecurity(serverKeys: broker, clientKeys: Set(clientKeys), workerKeys: Set(workerKeys))
                var message: String?
                do { try BrokerServer.start(configuration, logger: quietLogger("test.broker")).stop() } catch .invalidSecurity(let text) {
                    message = text
                } catch { message = "not invalidSecurity: \(error)" }
                Self.expect(message, contains: "secret key is listed in \(setting)")
                #expect(message?.contains(broker.secretKey) == false, "the secret key was printed")
            }
        }
    }
}
