import Foundation
import Testing

extension IntegrationTests {
    @Suite("zgrid broker checks broker_public_key against its own key pair", .serialized, .timeLimit(.minutes(1)))
    struct BrokerKeyCheckTests {
        @Test("a broker_public_key that is not the broker key file's stops zgrid broker at once, naming file, line and key")
        func mismatchedBrokerPublicKey() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            var publicKeys: [String] = []
            for name in ["broker", "other"] {
                let run = try await runZGrid(["keygen", "--out", directory.file("keys/\(name).key")], in: directory, seconds: 10)
                try #require(run.status == 0, "\(run)")
                publicKeys.append(run.output.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            let config = directory.file("cluster.conf")
            try """
            [broker]
            bind = ["tcp://127.0.0.1:\(try freePort())"]

            [jobs]
            store = ""

            [security]
            curve = true
            broker_public_key = "\(publicKeys[1])"
            """.write(toFile: config, atomically: true, encoding: .utf8)
            let run = try await runZGrid(["broker", "--config", config], in: directory, seconds: 8)
            #expect(run.status == 78, "\(run)")
            #expect(run.errors.contains("\(config):9: security.broker_public_key: expected the public key of broker_key_file "), "\(run)")
            #expect(run.errors.contains(publicKeys[0]) && run.errors.contains(publicKeys[1]), "\(run)")
            #expect(!run.output.contains("listening"), "\(run)")
        }
    }
}
