import Foundation
import Testing
import ZGridBroker

extension IntegrationTests {
    @Suite("A job store path the broker cannot open, and a start that fails", .serialized, .timeLimit(.minutes(1)))
    struct JobStorePathTests {
        /// A configuration file in `directory` binding a free port, whose `[jobs] store` (line 4) is `store`.
        private func config(in directory: TemporaryDirectory, store: String) throws -> String {
            let file = directory.file("cluster.conf")
            try "[broker]\nbind = [\"tcp://127.0.0.1:\(try freePort())\"]\n[jobs]\nstore = \(String(reflecting: store))\n".write(
                toFile: file, atomically: true, encoding: .utf8)
            return file
        }

        /// Runs zgrid with `arguments` and expects it to exit with `expected`, printing each of `texts`.
        private func expectRefusal(
            _ arguments: [String], in directory: TemporaryDirectory, status expected: Int32, printing texts: [String]
        ) async throws {
            let (status, errors) = try await refusedRun(arguments, in: directory)
            #expect(status == expected, "\(arguments): exit status \(status.map(String.init) ?? "none"): \(errors)")
            for text in texts { #expect(errors.contains(text), "\(errors)") }
        }

        @Test(
            "[jobs] store in a missing directory, or naming a directory: zgrid broker and zgrid up exit 78 naming the file, line and key",
            arguments: ["broker", "up"])
        func storeFromConfigRefused(_ command: String) async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            for (store, problem) in [
                (directory.file("no/such/dir/jobs.sqlite"), "the directory \(directory.file("no/such/dir")) does not exist"),
                (directory.path, "\(directory.path) is a directory"),
            ] {
                let file = try config(in: directory, store: store)
                try await expectRefusal(
                    [command, "--config", file], in: directory, status: 78, printing: ["\(file):4: jobs.store: ", problem])
            }
        }

        @Test("zgrid broker --job-store in a missing directory, or naming a directory, exits 64 naming the option")
        func storeFromOptionRefused() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let file = try config(in: directory, store: "")
            for (store, problem) in [
                (directory.file("missing/jobs.sqlite"), "the directory \(directory.file("missing")) does not exist"),
                (directory.path, "\(directory.path) is a directory"),
            ] {
                try await expectRefusal(
                    ["broker", "--config", file, "--job-store", store], in: directory, status: 64, printing: ["bad --job-store", problem])
            }
        }

        @Test("a broker that fails to bind removes the store file it created, and leaves one that existed before")
        func failedStartRemovesNewStore() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let first = try startBroker()
            defer { first.stop() }
            let created = directory.file("b.sqlite")
            #expect(throws: BrokerError.self) { try startBroker(endpoint: first.endpoints[0], jobStore: created) }
            for file in [created, created + "-wal", created + "-shm"] {
                #expect(!FileManager.default.fileExists(atPath: file), "\(file) left behind")
            }
            let existing = directory.file("c.sqlite")
            #expect(FileManager.default.createFile(atPath: existing, contents: nil))
            #expect(throws: BrokerError.self) { try startBroker(endpoint: first.endpoints[0], jobStore: existing) }
            #expect(FileManager.default.fileExists(atPath: existing), "a store that existed before was removed")
        }

        @Test("a store file of garbage bytes fails the start with exit 1 naming the file, and is left byte for byte as it was")
        func garbageStoreLeftAlone() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let store = directory.file("garbage.sqlite")
            let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) })
            #expect(FileManager.default.createFile(atPath: store, contents: garbage))
            let file = try config(in: directory, store: store)
            try await expectRefusal(
                ["broker", "--config", file], in: directory, status: 1,
                printing: ["cannot open job store at \(store)", "file is not a database"])
            #expect(FileManager.default.contents(atPath: store) == garbage, "the garbage store file was changed")
            for file in [store + "-wal", store + "-shm"] {
                #expect(!FileManager.default.fileExists(atPath: file), "\(file) left behind")
            }
        }

        @Test(
            "a store another broker has open still fails the start with exit 1, naming the file and the process holding it, and is left in place"
        )
        func storeInUseStillExitsOne() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let store = directory.file("a.sqlite")
            let file = try config(in: directory, store: store)
            let first = try startBroker(jobStore: store)
            defer { first.stop() }
            try await expectRefusal(
                ["broker", "--config", file], in: directory, status: 1,
                printing: ["cannot open job store at \(store)", "another broker has this store open: process \(getpid()) ("])
            #expect(FileManager.default.fileExists(atPath: store))
        }
    }
}
