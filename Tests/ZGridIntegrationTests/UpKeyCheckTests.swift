import Foundation
import Testing

extension IntegrationTests {
    @Suite("zgrid up with CURVE checks its workers' key pair before starting", .serialized, .timeLimit(.minutes(1)))
    struct UpKeyCheckTests {
        /// Writes keys/broker.key, keys/client.key and keys/worker.key in `directory` with
        /// `zgrid keygen` and returns the client's and the worker's public keys.
        private func makeKeys(in directory: TemporaryDirectory) async throws -> (client: String, worker: String) {
            let publicKeys = try await makeKeyFiles(["broker", "client", "worker"], in: directory)
            return (publicKeys[1], publicKeys[2])
        }

        /// A cluster.conf with CURVE on, listing `workerKeys`, with `worker_key_file` and one pool.
        private func writeConfig(_ path: String, clientKey: String, workerKeys: [String], workerKeyFile: String) throws {
            try """
            [broker]
            bind = ["tcp://127.0.0.1:\(try freePort())"]
            heartbeat_ms = 200
            log_level = "error"

            [jobs]
            store = ""

            [security]
            curve = true
            client_keys = ["\(clientKey)"]
            worker_keys = [\(workerKeys.map { "\"\($0)\"" }.joined(separator: ", "))]
            worker_key_file = "\(workerKeyFile)"

            [[pool]]
            name = "echoes"
            functions = ["echo"]
            processes = 2
            """.write(toFile: path, atomically: true, encoding: .utf8)
        }

        @Test("a worker key that worker_keys does not list stops zgrid up at once, naming file, line and key")
        func unlistedWorkerKey() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let keys = try await makeKeys(in: directory)
            let config = directory.file("cluster.conf")
            try writeConfig(config, clientKey: keys.client, workerKeys: [keys.client], workerKeyFile: "keys/worker.key")
            let run = try await runZGrid(["up", "--config", config], in: directory, seconds: 8)
            #expect(run.status == 78, "\(run)")
            #expect(run.errors.contains("\(config):12: security.worker_keys: expected the public key of worker_key_file "), "\(run)")
            #expect(run.errors.contains(keys.worker), "\(run)")
            #expect(!run.output.contains("started"), "no worker may start: \(run)")
        }

        @Test("a worker key file that cannot be read stops zgrid up at once instead of restarting its workers forever")
        func missingWorkerKeyFile() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let keys = try await makeKeys(in: directory)
            let config = directory.file("cluster.conf")
            try writeConfig(config, clientKey: keys.client, workerKeys: [keys.worker], workerKeyFile: "keys/missing.key")
            let run = try await runZGrid(["up", "--config", config], in: directory, seconds: 8)
            #expect(run.status == 78, "\(run)")
            #expect(run.errors.contains("keys/missing.key: cannot read the key file"), "\(run)")
            #expect(!run.errors.contains("restarting"), "\(run)")
        }
    }
}
