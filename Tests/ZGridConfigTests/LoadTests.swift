import Foundation
import Testing
import ZGridConfig

@Suite("Loading files")
struct LoadTests {
    /// A fresh temporary directory, removed by the caller.
    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("zgconfig-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test("a missing file gives a clear error naming the path")
    func missingFile() throws {
        let path = "/nonexistent/zgrid/cluster.conf"
        let error = try #require(#expect(throws: ConfigError.self) { try ClusterConfig.load(path: path) })
        #expect(error.file == path)
        #expect(error.line == nil)
        #expect(error.key == nil)
        #expect(error.message == "file not found; expected a TOML cluster configuration at this path")
        #expect(error.description == "\(path): file not found; expected a TOML cluster configuration at this path")
    }

    @Test("a directory is rejected")
    func directory() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let error = try #require(#expect(throws: ConfigError.self) { try ClusterConfig.load(path: directory.path) })
        #expect(error.message.hasPrefix("is a directory"))
    }

    @Test("a file is loaded, and its errors name its path")
    func loadFile() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let good = directory.appendingPathComponent("good.conf")
        try ExampleConfig.text.write(to: good, atomically: true, encoding: .utf8)
        let loaded = try ClusterConfig.load(path: good.path)
        var expected = try ClusterConfig.parse(ExampleConfig.text)
        // What differs: the file's relative paths, taken relative to its directory.
        expected.jobs.store = directory.path + "/zgrid-jobs.sqlite"
        expected.security.brokerKeyFile = directory.path + "/keys/broker.key"
        expected.security.clientKeyFile = directory.path + "/keys/client.key"
        expected.security.workerKeyFile = directory.path + "/keys/worker.key"
        #expect(loaded == expected)

        let bad = directory.appendingPathComponent("bad.conf")
        try "[broker]\nliveness = 0\n".write(to: bad, atomically: true, encoding: .utf8)
        let error = try #require(#expect(throws: ConfigError.self) { try ClusterConfig.load(path: bad.path) })
        #expect(error.file == bad.path)
        #expect(error.line == 2)
        #expect(error.key == "broker.liveness")
    }

    @Test("relative paths and ipc endpoints in a file are taken relative to its directory; absolute, abstract and empty ones stay")
    func relativePaths() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("cluster.conf")
        let text = """
            [broker]
            bind = ["ipc://grid.sock", "ipc://@abstract", "ipc:///run/grid.sock", "tcp://127.0.0.1:5555"]
            connect = "ipc://grid.sock"
            [jobs]
            store = "data/jobs.sqlite"
            [security]
            broker_key_file = "/etc/zgrid/broker.key"
            client_key_file = "client.key"
            """
        try text.write(to: file, atomically: true, encoding: .utf8)
        let config = try ClusterConfig.load(path: file.path)
        #expect(config.jobs.store == directory.path + "/data/jobs.sqlite")
        #expect(
            config.broker.bind == [
                "ipc://" + directory.path + "/grid.sock", "ipc://@abstract", "ipc:///run/grid.sock", "tcp://127.0.0.1:5555",
            ])
        #expect(config.broker.connect == "ipc://" + directory.path + "/grid.sock")
        #expect(config.security.brokerKeyFile == "/etc/zgrid/broker.key")
        #expect(config.security.clientKeyFile == directory.path + "/client.key")
        #expect(config.security.workerKeyFile == directory.path + "/keys/worker.key", "a default path is the file's too")
        try "[jobs]\nstore = \"\"\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(try ClusterConfig.load(path: file.path).jobs.store == "", "no store stays no store")
        // Parsed text has no file: its paths are left to the working directory.
        #expect(try ClusterConfig.parse(text).jobs.store == "data/jobs.sqlite")
    }

    @Test("invalid UTF-8 is rejected")
    func invalidUTF8() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("binary.conf")
        try Data([0x5B, 0xFF, 0xFE, 0x5D]).write(to: file)
        let error = try #require(#expect(throws: ConfigError.self) { try ClusterConfig.load(path: file.path) })
        #expect(error.message.contains("UTF-8"))
    }
}
