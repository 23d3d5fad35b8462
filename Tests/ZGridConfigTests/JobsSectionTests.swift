import Foundation
import Testing
import ZGridConfig
import ZeroMQ

/// Key pairs for tests.
enum CurveKeyPairFixture {
    static func make() -> CurveKeyPair { try! CurveKeyPair.generate() }
}

@Suite("The [jobs] section")
struct JobsSectionTests {
    @Test("defaults apply when [jobs] is missing, and every key is read")
    func readsKeys() throws {
        #expect(try ClusterConfig.parse("").jobs == JobsSettings())
        let config = try ClusterConfig.parse(
            """
            [jobs]
            store = "/var/lib/zgrid/jobs.sqlite"
            reserve_percent = 50
            default_time_limit_ms = 1000
            result_ttl_s = 60
            max_backoff_ms = 5000
            """)
        #expect(
            config.jobs
                == JobsSettings(
                    store: "/var/lib/zgrid/jobs.sqlite", reservePercent: 50, defaultTimeLimitMs: 1000, resultTTLSeconds: 60,
                    maxBackoffMs: 5000))
    }

    @Test("a bad [jobs] key names the file, line, key and what was expected")
    func badKeys() {
        let error = #expect(throws: ConfigError.self) {
            try ClusterConfig.parse("[jobs]\nstore = \"x\"\nreserve_percent = 150\n", file: "c.conf")
        }
        #expect(error?.line == 3)
        #expect(error?.key == "jobs.reserve_percent")
        #expect(error?.message.contains("0 to 100") == true)
        let typo = #expect(throws: ConfigError.self) { try ClusterConfig.parse("[jobs]\nstor = \"x\"\n") }
        #expect(typo?.description.contains("store") == true)
    }
}

@Suite("The [[schedule]] tables")
struct ScheduleSectionTests {
    @Test("schedules are read with their defaults")
    func reads() throws {
        let config = try ClusterConfig.parse(
            """
            [[schedule]]
            name = "nightly-report"
            cron = "0 3 * * *"
            function = "report"
            payload = "all"

            [[schedule]]
            name = "sweep"
            cron = "*/5 * * * *"
            function = "sweep"
            catch_up_s = 0
            catch_up = "all"
            """)
        #expect(config.schedules.map(\.name) == ["nightly-report", "sweep"])
        #expect(config.schedules[0].cron.description == "0 3 * * *")
        #expect(config.schedules[0].payload == "all")
        #expect(config.schedules[0].catchUpSeconds == 3600)
        #expect(config.schedules[1].catchUpSeconds == 0)
        #expect(config.schedules[0].catchUp == .latest, "missed slots make one job by default")
        #expect(config.schedules[1].catchUp == .all)
    }

    @Test("a catch_up other than \"latest\" or \"all\" names the file, line and key")
    func badCatchUp() {
        let error = #expect(throws: ConfigError.self) {
            try ClusterConfig.parse(
                "[[schedule]]\nname = \"x\"\ncron = \"* * * * *\"\nfunction = \"f\"\ncatch_up = \"every\"\n", file: "c.conf")
        }
        #expect(error?.file == "c.conf")
        #expect(error?.line == 5)
        #expect(error?.key == "schedule[0].catch_up")
        #expect(error?.message.contains("\"latest\"") == true)
        #expect(error?.message.contains("\"every\"") == true)
        let notText = #expect(throws: ConfigError.self) {
            try ClusterConfig.parse("[[schedule]]\nname = \"x\"\ncron = \"* * * * *\"\nfunction = \"f\"\ncatch_up = 1\n")
        }
        #expect(notText?.key == "schedule[0].catch_up")
    }

    @Test("a bad cron expression names the line, the key and the field")
    func badCron() {
        let error = #expect(throws: ConfigError.self) {
            try ClusterConfig.parse("[[schedule]]\nname = \"x\"\ncron = \"0 25 * * *\"\nfunction = \"f\"\n", file: "c.conf")
        }
        #expect(error?.line == 3)
        #expect(error?.key == "schedule[0].cron")
        #expect(error?.message.contains("hour") == true)
        let duplicate = #expect(throws: ConfigError.self) {
            try ClusterConfig.parse(
                "[[schedule]]\nname = \"x\"\ncron = \"* * * * *\"\nfunction = \"f\"\n[[schedule]]\nname = \"x\"\ncron = \"* * * * *\"\nfunction = \"g\"\n"
            )
        }
        #expect(duplicate?.message.contains("unique") == true)
        #expect(throws: ConfigError.self) { try ClusterConfig.parse("[[schedule]]\nname = \"x\"\nfunction = \"f\"\n") }
    }

    @Test("schedules without a job store are refused, naming the schedule's line and the store's, instead of never firing")
    func scheduleWithoutStore() {
        let error = #expect(throws: ConfigError.self) {
            try ClusterConfig.parse(
                "[jobs]\nstore = \"\"\n\n[[schedule]]\nname = \"x\"\ncron = \"* * * * *\"\nfunction = \"f\"\n", file: "c.conf")
        }
        #expect(error?.file == "c.conf")
        #expect(error?.line == 4)
        #expect(error?.key == "schedule[0]")
        #expect(error?.message.contains("expected a job store") == true, "\(String(describing: error))")
        #expect(error?.message.contains("store = \"\" on line 2") == true, "\(String(describing: error))")
    }
}

@Suite("The [security] table and key files")
struct SecuritySectionTests {
    @Test("keys are validated, with the line and the element that is wrong")
    func validation() throws {
        let good = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
        let config = try ClusterConfig.parse("[security]\ncurve = true\nclient_keys = [\"\(good)\"]\n")
        #expect(config.security.curve)
        #expect(config.security.clientKeys == [good])
        let error = #expect(throws: ConfigError.self) {
            try ClusterConfig.parse("[security]\ncurve = true\nworker_keys = [\"\(good)\", \"short\"]\n", file: "c.conf")
        }
        #expect(error?.line == 3)
        #expect(error?.key == "security.worker_keys[1]")
        #expect(throws: ConfigError.self) { try ClusterConfig.parse("[security]\ncurve = \"yes\"\n") }
    }

    @Test("a key file round-trips, and a bad one names the file")
    func keyFile() throws {
        let keys = CurveKeyPairFixture.make()
        let path = NSTemporaryDirectory() + "zgrid-key-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try KeyFile.text(keys).write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try KeyFile.load(path) == keys)
        try "public = \"x\"\n".write(toFile: path, atomically: true, encoding: .utf8)
        let error = #expect(throws: ConfigError.self) { try KeyFile.load(path) }
        #expect(error?.file == path)
        // A public key of another pair beside this secret.
        try KeyFile.text(CurveKeyPair(publicKey: CurveKeyPairFixture.make().publicKey, secretKey: keys.secretKey)!)
            .write(toFile: path, atomically: true, encoding: .utf8)
        let mixed = #expect(throws: ConfigError.self) { try KeyFile.load(path) }
        #expect(mixed?.message.contains("does not belong to the secret key") == true, "\(String(describing: mixed))")
        #expect(mixed?.message.contains(keys.publicKey) == true, "names the right public key")
        // The public key pasted where the secret key goes.
        try "public = \"\(keys.publicKey)\"\r\nsecret = \"\(keys.publicKey)\"\r\n".write(toFile: path, atomically: true, encoding: .utf8)
        let pasted = #expect(throws: ConfigError.self) { try KeyFile.load(path) }
        #expect(pasted?.message.contains("a public key was pasted where the secret key goes") == true, "\(String(describing: pasted))")
        #expect(pasted?.line == 2)
        #expect(pasted?.key == "secret")
        // A directory where the file should be.
        let directory = NSTemporaryDirectory() + "zgrid-keydir-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let notAFile = #expect(throws: ConfigError.self) { try KeyFile.load(directory) }
        #expect(notAFile?.message.contains("found a directory") == true)
    }

    @Test("a key file others can read is reported, a private one is not")
    func exposedKeyFile() throws {
        let path = NSTemporaryDirectory() + "zgrid-key-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try KeyFile.text(CurveKeyPairFixture.make()).write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        let warning = try #require(KeyFile.exposure(path))
        #expect(warning.contains("mode 0644") && warning.contains("chmod 600 \(path)"), "\(warning)")
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        #expect(KeyFile.exposure(path) == nil)
        #expect(KeyFile.exposure(path + ".missing") == nil)
        // A link is judged by the file it points to.
        let link = path + ".link"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: path)
        defer { try? FileManager.default.removeItem(atPath: link) }
        #expect(KeyFile.exposure(link) == nil, "a link to a private file")
        try FileManager.default.setAttributes([.posixPermissions: 0o620], ofItemAtPath: path)
        let writable = try #require(KeyFile.exposure(link))
        #expect(writable.contains("mode 0620") && writable.contains("others can replace"), "\(writable)")
    }
}
