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

    /// Refuses an empty path, a directory and (without `--force`) an existing file before anything
    /// is written, with this command's usage.
    func validate() throws {
        guard !out.isEmpty else { throw ValidationError("--out needs the path of the key file to write") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory) else { return }
        if isDirectory.boolValue { throw ValidationError("\(out) is a directory; --out needs the path of a file") }
        if !force { throw ValidationError("\(out) exists; use --force to replace it") }
    }

    func run() throws {
        let keys = try CurveKeyPair.generate()
        let directory = (out as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw KeygenError("cannot create the directory \(directory) for \(out): \(error.localizedDescription)")
            }
        }
        // Mode 0600 from creation on: a file made readable and narrowed afterwards could be opened
        // by another user in between, and read for as long as they keep it open.
        do { try PrivateFile.write(KeyFile.text(keys), to: out) } catch {
            throw KeygenError("\(error): check that its directory is writable")
        }
        print(keys.publicKey)
    }
}

/// Why `zgrid keygen` could not write its key file.
struct KeygenError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) { self.description = description }
}
