import Foundation
import Testing

/// Runs `zgrid` with `arguments` in `directory` expecting it to refuse them and end at once;
/// returns its exit status (nil when it did not end within 15 s, which is recorded as an issue)
/// and what it wrote to standard error.
func refusedRun(_ arguments: [String], in directory: TemporaryDirectory) async throws -> (status: Int32?, errors: String) {
    let log = directory.file("refused.\(UUID().uuidString).log")
    _ = FileManager.default.createFile(atPath: log, contents: nil)
    let process = try launchZGrid(arguments, standardError: FileHandle(forWritingAtPath: log))
    defer { endProcess(process) }
    let exited = try await waitForExit(process, seconds: 15)
    #expect(exited, "zgrid \(arguments.joined(separator: " ")) still runs 15 s after it started")
    let errors = readText(log) ?? ""
    guard exited, process.terminationReason == .exit else { return (nil, errors) }
    return (process.terminationStatus, errors)
}
