import Foundation
import Testing

/// Waits up to `seconds` for `process` to end; returns whether it did.
func waitForExit(_ process: Process, seconds: Double) async throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(5)) }
    return !process.isRunning
}

/// Stops `process` (`name` in messages) by force: sends it `first` when given and checks that it
/// still runs 400 ms later (stopping gracefully, held by work in flight), then sends `force` and
/// checks that it exits with status 0 within `bound`. Returns whether it exited at all (within
/// 15 s: far below the minute its work in flight would hold it).
func expectForcedExit(_ process: Process, _ name: String, first: Int32?, force: Int32, bound: Duration = .seconds(5)) async throws -> Bool {
    if let first {
        kill(process.processIdentifier, first)
        try await Task.sleep(for: .milliseconds(400))
        #expect(process.isRunning, "after one signal \(name) waits for its work in flight")
    }
    let forcedAt = ContinuousClock.now
    kill(process.processIdentifier, force)
    // Usually a few milliseconds; the bound leaves room for a loaded machine or a sanitizer build.
    let exited = try await waitForExit(process, seconds: 15)
    let took = ContinuousClock.now - forcedAt
    #expect(exited, "\(name) still runs 15 s after the signal that forces it out")
    guard exited else { return false }
    #expect(took < bound, "\(name) took \(took) to stop after the signal that forces it out")
    expectExitedCleanly(process, name)
    return true
}

/// Checks that `process` (`name` in messages), which has ended, exited with status 0.
func expectExitedCleanly(_ process: Process, _ name: String) {
    #expect(
        process.terminationReason == .exit && process.terminationStatus == 0,
        "\(name) ended by \(process.terminationReason == .exit ? "exit status" : "signal") \(process.terminationStatus)")
}
