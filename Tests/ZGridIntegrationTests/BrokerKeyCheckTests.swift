import Foundation
import Testing

extension IntegrationTests {
    @Suite("zgrid broker checks broker_public_key against its own key pair", .serialized, .timeLimit(.minutes(1)))
    struct BrokerKeyCheckTests {
        @Test("a broker_public_key that is not the broker key file's stops zgrid broker at once, naming file, line and key")
        func mismatchedBrokerPublicKey() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let publicKeys = try await makeKeyFiles(["broker", "other"], in: directory)
            let config = try writeCurveConfig(in: directory, security: "broker_public_key = \"\(publicKeys[1])\"")
            let run = try await runZGrid(["broker", "--config", config], in: directory, seconds: 8)
            #expect(run.status == 78, "\(run)")
            #expect(run.errors.contains("\(config):9: security.broker_public_key: expected the public key of broker_key_file "), "\(run)")
            #expect(run.errors.contains(publicKeys[0]) && run.errors.contains(publicKeys[1]), "\(run)")
            #expect(!run.output.contains("listening"), "\(run)")
        }
    }
}
