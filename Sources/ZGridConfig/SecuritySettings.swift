import Foundation
import TOMLKit
import ZeroMQ

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The `[security]` table: CURVE on the broker's endpoints and who may connect.
public struct SecuritySettings: Sendable, Equatable {
    /// Whether CURVE is on (key `curve`, default false).
    public var curve: Bool
    /// The broker's key file (key `broker_key_file`); clients and workers on this machine read the
    /// broker's public key from it too.
    public var brokerKeyFile: String
    /// The broker's public key for peers that cannot read its key file (key `broker_public_key`).
    public var brokerPublicKey: String
    /// Public keys allowed to act as clients (key `client_keys`, Z85).
    public var clientKeys: [String]
    /// Public keys allowed to act as workers (key `worker_keys`, Z85).
    public var workerKeys: [String]
    /// The key pair `zgrid` client commands use (key `client_key_file`).
    public var clientKeyFile: String
    /// The key pair `zgrid worker` uses (key `worker_key_file`).
    public var workerKeyFile: String

    /// The keys of `[security]`.
    public static let knownKeys = [
        "curve", "broker_key_file", "broker_public_key", "client_keys", "worker_keys", "client_key_file", "worker_key_file",
    ]

    /// Creates settings; by default security is off.
    public init(
        curve: Bool = false, brokerKeyFile: String = "keys/broker.key", brokerPublicKey: String = "", clientKeys: [String] = [],
        workerKeys: [String] = [], clientKeyFile: String = "keys/client.key", workerKeyFile: String = "keys/worker.key"
    ) {
        self.curve = curve
        self.brokerKeyFile = brokerKeyFile
        self.brokerPublicKey = brokerPublicKey
        self.clientKeys = clientKeys
        self.workerKeys = workerKeys
        self.clientKeyFile = clientKeyFile
        self.workerKeyFile = workerKeyFile
    }
}

extension SecuritySettings {
    /// Reads and validates the `[security]` table.
    init(reading reader: TableReader) throws(ConfigError) {
        try reader.rejectUnknownKeys(known: Self.knownKeys)
        let keyRule = "an array of 40-character Z85 public keys (as `zgrid keygen` prints them)"
        var lists: [[String]] = []
        for name in ["client_keys", "worker_keys"] {
            let keys = try reader.stringArray(name, expected: keyRule) ?? []
            for (index, key) in keys.enumerated() where !Curve.isValidKey(key) {
                throw reader.error(name, element: index, "expected a 40-character Z85 public key, got \(String(reflecting: key))")
            }
            lists.append(keys)
        }
        let publicKey = try reader.string("broker_public_key", expected: "a 40-character Z85 public key") ?? ""
        guard publicKey.isEmpty || Curve.isValidKey(publicKey) else {
            throw reader.error("broker_public_key", "expected a 40-character Z85 public key, got \(String(reflecting: publicKey))")
        }
        let curve = try reader.bool("curve", expected: "true or false") ?? false
        self.init(
            curve: curve,
            brokerKeyFile: try Self.keyFile("broker_key_file", reader) ?? "keys/broker.key",
            brokerPublicKey: publicKey, clientKeys: lists[0], workerKeys: lists[1],
            clientKeyFile: try Self.keyFile("client_key_file", reader) ?? "keys/client.key",
            workerKeyFile: try Self.keyFile("worker_key_file", reader) ?? "keys/worker.key")
    }

    /// The key file path at `key`, `nil` if absent; an empty path is an error of its line.
    private static func keyFile(_ key: String, _ reader: TableReader) throws(ConfigError) -> String? {
        let expected = "a key file path (as written by `zgrid keygen --out FILE`)"
        guard let path = try reader.string(key, expected: expected) else { return nil }
        guard !path.isEmpty else { throw reader.error(key, "expected \(expected), got \"\"") }
        return path
    }
}

/// A CURVE key file, as `zgrid keygen` writes it: TOML with `public` and `secret` in Z85.
public enum KeyFile {
    /// The text of a key file for `keys`.
    public static func text(_ keys: CurveKeyPair) -> String {
        """
        # ZGrid CURVE key pair (Z85). Keep this file private: it holds the secret key.
        # Give the public key to the broker's [security] client_keys or worker_keys.
        public = "\(keys.publicKey)"
        secret = "\(keys.secretKey)"

        """
    }

    /// Why the key file at `path` is not private, when group or others may read or write it (its
    /// secret key is then exposed, or can be replaced); nil when it is private or cannot be
    /// inspected. A symbolic link is followed: the file it points to is the one that counts.
    public static func exposure(_ path: String) -> String? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        let mode = Int(status.st_mode) & 0o777
        guard mode & 0o077 != 0 else { return nil }
        let what = mode & 0o044 != 0 ? "others can read its secret key" : "others can replace its key pair"
        return "key file \(path) has mode \(String(format: "%04o", mode)): \(what); make it private with chmod 600 \(path)"
    }

    /// Reads a key file; errors name the file and what is wrong.
    public static func load(_ path: String) throws(ConfigError) -> CurveKeyPair {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw ConfigError(file: path, message: "expected a key file, found a directory (make one with `zgrid keygen --out FILE`)")
        }
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigError(
                file: path, message: "cannot read the key file: \(error.localizedDescription) (make one with `zgrid keygen --out \(path)`)")
        }
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch {
            throw ConfigError(file: path, message: "expected a key file with public = \"…\" and secret = \"…\": \(error)")
        }
        let locator = KeyLocator(text: text)
        let publicKey = try key("public", of: table, in: path, locator)
        let secretKey = try key("secret", of: table, in: path, locator)
        guard let keys = CurveKeyPair(publicKey: publicKey, secretKey: secretKey) else {
            throw ConfigError(file: path, message: "expected 40-character Z85 keys in public = \"…\" and secret = \"…\"")
        }
        guard secretKey != publicKey else {
            throw ConfigError(
                file: path, line: locator.line(for: ["secret"]), key: "secret",
                message: "the secret key is the public key: a public key was pasted where the secret key goes; "
                    + "use the key file `zgrid keygen` wrote for this pair, or make a new one")
        }
        let derived = Curve.publicKey(forSecret: secretKey)
        guard derived == publicKey else {
            throw ConfigError(
                file: path, line: locator.line(for: ["public"]), key: "public",
                message:
                    "the public key does not belong to the secret key (keys of two pairs mixed?); with this secret it is \"\(derived ?? "?")\""
            )
        }
        return keys
    }

    /// The Z85 key `name` of a key file's `table`; errors name the file, the line and the key. A
    /// bad secret key is described by its length only, so that no part of it reaches a log.
    private static func key(_ name: String, of table: TOMLTable, in path: String, _ locator: KeyLocator) throws(ConfigError) -> String {
        let expected = "a 40-character Z85 key in quotes, as `zgrid keygen` writes it"
        guard let value = table[name] else {
            throw ConfigError(file: path, message: "expected \(name) = \"…\" (\(expected)), found no \(name) key")
        }
        if let text = value.string, Curve.isValidKey(text) { return text }
        let got = name == "secret" ? value.string.map { "\($0.count) characters, not a Z85 key" } : nil
        throw ConfigError(
            file: path, line: locator.line(for: [name]), key: name,
            message: "expected \(expected), got \(got ?? ValueDescription.of(value))")
    }
}
