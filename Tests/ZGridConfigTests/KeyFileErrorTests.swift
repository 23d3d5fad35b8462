import Foundation
import Testing
import ZGridConfig
import ZeroMQ

@Suite("Key file errors name the file, the line, the key and what was expected")
struct KeyFileErrorTests {
    /// The error of loading a key file holding `text`.
    private func loadError(_ text: String) throws -> ConfigError? {
        let path = NSTemporaryDirectory() + "zgrid-key-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let error = #expect(throws: ConfigError.self) { try KeyFile.load(path) }
        #expect(error?.file == path)
        return error
    }

    @Test("a bad public key, a missing secret, a bad secret and a mixed pair")
    func badKeys() throws {
        let keys = CurveKeyPairFixture.make()
        let badPublic = try loadError("# a key\npublic = \"abc\"\nsecret = \"\(keys.secretKey)\"\n")
        #expect(badPublic?.line == 2)
        #expect(badPublic?.key == "public")
        #expect(badPublic?.message.contains("expected a 40-character Z85 key") == true, "\(String(describing: badPublic))")
        #expect(badPublic?.message.hasSuffix("got \"abc\"") == true, "\(String(describing: badPublic))")

        let missingSecret = try loadError("public = \"\(keys.publicKey)\"\n")
        #expect(missingSecret?.message.contains("found no secret key") == true, "\(String(describing: missingSecret))")

        let shortSecret = String(keys.secretKey.dropLast())
        let badSecret = try loadError("public = \"\(keys.publicKey)\"\n\nsecret = \"\(shortSecret)\"\n")
        #expect(badSecret?.line == 3)
        #expect(badSecret?.key == "secret")
        #expect(badSecret?.message.contains("got 39 characters") == true, "\(String(describing: badSecret))")
        #expect(badSecret?.description.contains(shortSecret) == false, "no part of a secret key may reach a log")

        let other = CurveKeyPairFixture.make()
        let mixed = try loadError("secret = \"\(keys.secretKey)\"\npublic = \"\(other.publicKey)\"\n")
        #expect(mixed?.line == 2)
        #expect(mixed?.key == "public")
    }
}

@Suite("Key file paths in [security]")
struct KeyFilePathTests {
    @Test("an empty key file path is refused with its file, line and key")
    func emptyPath() {
        for key in ["broker_key_file", "client_key_file", "worker_key_file"] {
            let error = #expect(throws: ConfigError.self) {
                try ClusterConfig.parse("[security]\ncurve = true\n\(key) = \"\"\n", file: "c.conf")
            }
            #expect(error?.line == 3)
            #expect(error?.key == "security.\(key)")
            #expect(error?.message.contains("expected a key file path") == true, "\(String(describing: error))")
        }
    }
}
