import Foundation
import Testing

extension IntegrationTests {
    @Suite("zgrid keygen says what is wrong with --out", .serialized, .timeLimit(.minutes(1)))
    struct KeygenErrorTests {
        @Test("an empty path, a directory, an existing file and a parent that is a file are refused clearly")
        func badOut() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let empty = try await runZGrid(["keygen", "--out", ""], in: directory, seconds: 10)
            #expect(empty.status == 64 && empty.errors.contains("--out needs the path of the key file"), "\(empty)")
            #expect(empty.errors.contains("zgrid keygen --out"), "the usage is keygen's: \(empty)")
            let isDirectory = try await runZGrid(["keygen", "--out", directory.path], in: directory, seconds: 10)
            #expect(isDirectory.status == 64 && isDirectory.errors.contains("is a directory"), "\(isDirectory)")
            let file = directory.file("a.key")
            #expect(try await runZGrid(["keygen", "--out", file], in: directory, seconds: 10).status == 0)
            let exists = try await runZGrid(["keygen", "--out", file], in: directory, seconds: 10)
            #expect(exists.status == 64 && exists.errors.contains("exists; use --force"), "\(exists)")
            #expect(exists.errors.contains("zgrid keygen --out"), "the usage is keygen's: \(exists)")
            let underFile = try await runZGrid(["keygen", "--out", file + "/b.key"], in: directory, seconds: 10)
            #expect(underFile.status == 1, "\(underFile)")
            #expect(underFile.errors.contains("cannot create the directory \(file) for \(file)/b.key"), "\(underFile)")
            #expect(!underFile.errors.contains("NSCocoaErrorDomain"), "\(underFile)")
        }

        @Test(
            "the key file is created private: no moment when group or others could open it",
            .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/strace"), "needs strace"))
        func createdPrivate() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let trace = directory.file("trace.txt")
            let launcher = directory.file("strace.sh")
            // LeakSanitizer (in an AddressSanitizer build) refuses to run under ptrace: off here.
            try
                "#!/bin/sh\nASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0\" exec /usr/bin/strace -f -qq -e trace=open,openat,creat -o '\(trace)' \"$@\"\n"
                .write(
                    toFile: launcher, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: launcher)
            for force in [false, true] {
                let process = try launchZGrid(
                    ["keygen", "--out", directory.file("keys/k.key")] + (force ? ["--force"] : []), through: launcher)
                process.waitUntilExit()
                #expect(process.terminationStatus == 0)
                // Every file created in the key's directory (the key file, or one renamed to it).
                let creations = (readText(trace) ?? "").split(separator: "\n").filter { $0.contains("/keys/") && $0.contains("O_CREAT") }
                #expect(!creations.isEmpty, "strace saw no file created: \(readText(trace) ?? "")")
                for line in creations { #expect(line.contains(", 0600)"), "created with another mode: \(line)") }
            }
            let mode = try FileManager.default.attributesOfItem(atPath: directory.file("keys/k.key"))[.posixPermissions] as? Int
            #expect(mode == 0o600)
        }
    }
}
