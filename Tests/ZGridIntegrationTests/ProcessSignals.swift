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
    // Usually a few milliseconds; the bound leaves room for a loaded machine or a sanitizer build.
    guard let took = try await timedExit(process, name, after: force, seconds: 15) else { return false }
    #expect(took < bound, "\(name) took \(took) to stop after the signal that forces it out")
    expectExitedCleanly(process, name)
    return true
}

/// Sends `signal` to `process` (`name` in messages) and waits up to `seconds` for it to end;
/// returns how long that took, or nil (recording an issue) when it still runs.
func timedExit(_ process: Process, _ name: String, after signal: Int32, seconds: Double) async throws -> Duration? {
    let sentAt = ContinuousClock.now
    kill(process.processIdentifier, signal)
    let exited = try await waitForExit(process, seconds: seconds)
    let took = ContinuousClock.now - sentAt
    #expect(exited, "\(name) still runs \(Int(seconds)) s after signal \(signal)")
    return exited ? took : nil
}

/// Checks that `process` (`name` in messages), which has ended, exited with status 0.
func expectExitedCleanly(_ process: Process, _ name: String) {
    #expect(
        process.terminationReason == .exit && process.terminationStatus == 0,
        "\(name) ended by \(process.terminationReason == .exit ? "exit status" : "signal") \(process.terminationStatus)")
}
