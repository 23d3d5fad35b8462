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
    }
}
