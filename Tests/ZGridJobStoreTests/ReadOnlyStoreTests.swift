import Foundation
import Testing
import ZGridJobStore

/// Makes `path` unwritable for this process: mode 0444, and as root (which file modes do not
/// stop) the immutable attribute too. Returns whether it worked, with the command that undoes it.
private func makeUnwritable(_ path: String) -> (done: Bool, undo: () -> Void) {
    guard chmod(path, 0o444) == 0 else { return (false, {}) }
    guard getuid() == 0 else { return (true, { chmod(path, 0o644) }) }
    let undo = {
        _ = run("/usr/bin/chattr", ["-i", path])
        chmod(path, 0o644)
    }
    return (run("/usr/bin/chattr", ["+i", path]), undo)
}

/// Runs `tool` with `arguments`; whether it exited 0.
private func run(_ tool: String, _ arguments: [String]) -> Bool {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = arguments
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return false }
    process.waitUntilExit()
    return process.terminationStatus == 0
}

/// Whether this machine lets a test make a file unwritable for its own process (as root: whether
/// `chattr +i` works on the temporary directory's file system).
private let canMakeFilesUnwritable: Bool = {
    guard let directory = try? TemporaryDirectory() else { return false }
    defer { directory.remove() }
    let path = directory.file("probe")
    guard FileManager.default.createFile(atPath: path, contents: Data([1])) else { return false }
    let (done, undo) = makeUnwritable(path)
    defer { undo() }
    return done && !FileManager.default.isWritableFile(atPath: path) && (try? Data([2]).write(to: URL(fileURLWithPath: path))) == nil
}()

@Suite("A store file the process may not write")
struct ReadOnlyStoreTests {
    @Test(
        "opening it gives .cannotOpen saying it cannot be written, instead of a store that fails every write",
        .enabled(if: canMakeFilesUnwritable, "this machine cannot make a file unwritable for the test's own process"))
    func readOnlyFileIsRefusedAtOpen() throws {
        try withTemporaryDirectory { directory throws in
            let path = directory.file("jobs.sqlite")
            try JobStore(path: path).close()
            let (done, undo) = makeUnwritable(path)
            defer { undo() }
            #expect(done)
            #expect {
                try JobStore(path: path)
            } throws: { error in
                guard case .cannotOpen(let failedPath, let reason) = error as? JobStoreError else { return false }
                return failedPath == path && reason.contains("cannot be written") && reason.contains("readonly")
            }
        }
    }
}
