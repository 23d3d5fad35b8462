import Foundation
import Testing

/// What a finished `zgrid` command printed, and its exit status.
struct CommandRun: CustomStringConvertible {
    /// The exit status (the signal number when a signal ended it).
    let status: Int32
    /// Its standard output.
    let output: String
    /// Its standard error.
    let errors: String

    var description: String { "status \(status), output \(output.debugDescription), errors \(errors.debugDescription)" }
}

/// Runs the zgrid executable with `arguments` until it exits (killing it after `seconds`, which
/// the test reports) and returns what it printed; the output files live in `directory`.
func runZGrid(_ arguments: [String], in directory: TemporaryDirectory, seconds: Double = 30) async throws -> CommandRun {
    let name = UUID().uuidString
    let outputPath = directory.file("\(name).out")
    let errorsPath = directory.file("\(name).err")
    _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
    _ = FileManager.default.createFile(atPath: errorsPath, contents: nil)
    let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
    let errors = try FileHandle(forWritingTo: URL(fileURLWithPath: errorsPath))
    defer {
        try? output.close()
        try? errors.close()
    }
    let process = try launchZGrid(arguments, standardOutput: output, standardError: errors)
    defer { endProcess(process) }
    let exited = try await waitForExit(process, seconds: seconds)
    #expect(exited, "zgrid \(arguments.joined(separator: " ")) still runs after \(seconds) s")
    endProcess(process)
    return CommandRun(status: process.terminationStatus, output: readText(outputPath) ?? "", errors: readText(errorsPath) ?? "")
}
