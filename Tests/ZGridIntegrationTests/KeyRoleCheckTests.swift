import Foundation
import Testing

extension IntegrationTests {
    @Suite("zgrid commands refuse key files of the wrong role at start (exit 78)", .serialized, .timeLimit(.minutes(1)))
    struct KeyRoleCheckTests {
        /// Writes keys/broker.key, keys/client.key and keys/worker.key and a cluster.conf with CURVE
        /// on that lists the client's and the worker's public keys, plus `security` lines.
        private func setUp(_ directory: TemporaryDirectory, security: String) async throws -> String {
            let publicKeys = try await makeKeyFiles(["broker", "client", "worker"], in: directory)
            return try writeCurveConfig(
                in: directory, security: "client_keys = [\"\(publicKeys[1])\"]\nworker_keys = [\"\(publicKeys[2])\"]\n\(security)")
        }

        @Test(
            "a client, worker or broker key file holding another role's pair stops the command at once, naming the key file",
            arguments: [
                (
                    ["call", "echo", "hi"], "client_key_file = \"keys/broker.key\"", "keys/broker.key",
                    "uses the broker's own CURVE key pair"
                ),
                (
                    ["call", "echo", "hi"], "client_key_file = \"keys/worker.key\"", "keys/worker.key",
                    "is listed in [security] worker_keys, not client_keys"
                ),
                (
                    ["worker"], "worker_key_file = \"keys/client.key\"", "keys/client.key",
                    "is listed in [security] client_keys, not worker_keys"
                ),
                (["broker"], "broker_key_file = \"keys/client.key\"", "keys/client.key", "is listed in client_keys"),
                (["broker"], "broker_key_file = \"keys/worker.key\"", "keys/worker.key", "is listed in worker_keys"),
            ])
        func wrongRoleKeyFile(command: [String], security: String, file: String, words: String) async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let config = try await setUp(directory, security: security)
            let run = try await runZGrid(command + ["--config", config], in: directory, seconds: 8)
            #expect(run.status == 78, "\(run)")
            #expect(run.errors.contains(file) && run.errors.contains(words), "\(run)")
            #expect(!run.output.contains("listening"), "\(run)")
        }
    }
}
