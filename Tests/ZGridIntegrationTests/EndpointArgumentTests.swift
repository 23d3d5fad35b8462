import Foundation
import Testing

extension IntegrationTests {
    @Suite("zgrid broker and worker refusing endpoints libzmq refuses", .serialized, .timeLimit(.minutes(1)))
    struct EndpointArgumentTests {
        @Test(
            "zgrid worker --connect with an endpoint libzmq refuses exits 64 at once, saying what it expected, with its own usage",
            arguments: ["nonsense", "udp://127.0.0.1:5555", "tcp://*:5555", "tcp://user@127.0.0.1:5555", "tcp://127.0.0.1:99999"]
        )
        func workerConnectRefused(endpoint: String) async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let (status, errors) = try await refusedRun(["worker", "--connect", endpoint, "--function", "echo"], in: directory)
            #expect(status == 64, "exit status \(status.map(String.init) ?? "none"): \(errors)")
            #expect(errors.contains("bad --connect: expected"), "\(errors)")
            #expect(errors.contains(String(reflecting: endpoint)), "\(errors)")
            #expect(errors.contains("Usage: zgrid worker"), "\(errors)")
        }

        @Test(
            "zgrid broker --bind with an endpoint libzmq refuses, or a port it would wrap, exits 64 at once",
            arguments: ["nonsense", "ipc://", "tcp://127.0.0.1:99999", "tcp://foo/bar:5555"]
        )
        func brokerBindRefused(endpoint: String) async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let (status, errors) = try await refusedRun(["broker", "--bind", endpoint, "--job-store", ""], in: directory)
            #expect(status == 64, "exit status \(status.map(String.init) ?? "none"): \(errors)")
            #expect(errors.contains("bad --bind: expected"), "\(errors)")
            #expect(errors.contains("Usage: zgrid broker"), "\(errors)")
        }
    }
}
