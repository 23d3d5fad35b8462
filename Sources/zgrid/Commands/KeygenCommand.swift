import ArgumentParser
import Foundation
import ZGridConfig
import ZeroMQ

/// `zgrid keygen`: writes a new CURVE key pair.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen", abstract: "Write a new CURVE key pair to a file (mode 0600) and print its public key.")

    @Option(name: .long, help: "The key file to write, such as keys/broker.key.")
    var out: String

    @Flag(name: .long, help: "Overwrite an existing file.")
    var force = false

    func run() throws {
        if FileManager.default.fileExists(atPath: out) && !force {
            throw ValidationError("\(out) exists; use --force to replace it")
        }
        let keys = try CurveKeyPair.generate()
        let directory = (out as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        guard FileManager.default.createFile(atPath: out, contents: Data(KeyFile.text(keys).utf8), attributes: [.posixPermissions: 0o600])
        else {
            throw ValidationError("cannot write \(out)")
        }
        print(keys.publicKey)
    }
}
