import Foundation
import Testing

extension IntegrationTests {
    @Suite("zgrid up refuses an inproc:// endpoint for its worker processes to connect to", .timeLimit(.minutes(1)))
    struct UpConnectCheckTests {
        /// Runs `zgrid up` on a file whose `[broker]` table is `broker`, with one pool, and returns
        /// the run and the file's path.
        private func runUp(broker: String, in directory: TemporaryDirectory) async throws -> (run: CommandRun, config: String) {
            let config = directory.file("cluster.conf")
            // The pool first, so that the [broker] table starts on line 5.
            let lines = ["[[pool]]", "name = \"echoes\"", "functions = [\"echo\"]", "", "[broker]", broker, "[jobs]", "store = \"\""]
            try lines.joined(separator: "\n").write(toFile: config, atomically: true, encoding: .utf8)
            // Without the check it runs until stopped, its worker reconnecting forever: killed here.
            return (try await runZGrid(["up", "--config", config], in: directory, seconds: 8), config)
        }

        @Test("an inproc bind that connect defaults to exits 78 naming file, line and broker.bind, before any worker starts")
        func derivedFromBind() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let (run, config) = try await runUp(broker: "bind = [\"inproc://grid\", \"tcp://127.0.0.1:\(try freePort())\"]", in: directory)
            #expect(run.status == 78, "\(run)")
            #expect(run.errors.contains("\(config):6: broker.bind: expected a tcp:// or ipc:// endpoint first"), "\(run)")
            #expect(run.errors.contains("inproc:// connects only within one process"), "\(run)")
            #expect(!run.output.contains("started"), "no worker may start: \(run)")
        }

        @Test("an inproc connect exits 78 naming file, line and broker.connect")
        func givenConnect() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let broker = "bind = [\"tcp://127.0.0.1:\(try freePort())\", \"inproc://grid\"]\nconnect = \"inproc://grid\""
            let (run, config) = try await runUp(broker: broker, in: directory)
            #expect(run.status == 78, "\(run)")
            #expect(run.errors.contains("\(config):7: broker.connect: expected a tcp:// or ipc:// endpoint"), "\(run)")
            #expect(!run.output.contains("started"), "no worker may start: \(run)")
        }
    }
}
