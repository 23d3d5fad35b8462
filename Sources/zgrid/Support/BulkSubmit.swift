import ArgumentParser
import Foundation
import Synchronization
import ZGridClient

/// Submits every line of a JSON Lines file, keeping many submits in flight, with a progress bar.
/// A BUSY answer (admission control) is retried after a pause, so nothing is skipped.
struct BulkSubmit {
    let client: GridClient
    let path: String
    let inFlight: Int

    /// The contents of the file at `path`; a path that cannot be read (missing, a directory, an
    /// I/O error) is refused as an argument instead of crashing the process.
    static func read(_ path: String) throws(ValidationError) -> Data {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw ValidationError("cannot read \(path): it is a directory, not a JSON Lines file")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ValidationError("cannot open \(path)") }
        defer { try? handle.close() }
        do { return try handle.readToEnd() ?? Data() } catch {
            let reason = (error as NSError).userInfo[NSUnderlyingErrorKey].map { "\($0)" } ?? "\(error)"
            throw ValidationError("cannot read \(path): \(reason)")
        }
    }

    func run() async throws {
        let data = try Self.read(path)
        // Blank lines are skipped but keep their place: every number is the line's number in the file.
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        // Every line is checked before the first is sent: a bad line stops the run with nothing stored.
        var parsed: [(Int, BulkLine)] = []
        parsed.reserveCapacity(lines.count)
        let decoder = JSONDecoder()
        for (index, text) in lines.enumerated() where !Self.isBlank(text) {
            let line: BulkLine
            do { line = try decoder.decode(BulkLine.self, from: Data(text)) } catch let error as BulkLine.UnknownKey {
                throw ValidationError("\(path):\(index + 1): \(error)")
            } catch {
                throw ValidationError("\(path):\(index + 1): expected a JSON object with at least \"function\": \(error)")
            }
            do { try GridClient.checkSubmit(line.function, options: line.options) } catch {
                throw ValidationError("\(path):\(index + 1): \(error)")
            }
            parsed.append((index + 1, line))
        }
        let total = parsed.count
        let progress = BulkProgress(total: total)
        let next = TicketDispenser()
        let started = Date()
        let ticker = Task {
            while !Task.isCancelled {
                progress.draw(elapsed: Date().timeIntervalSince(started))
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
        let client = self.client
        let jobs = parsed
        let outcome = BulkOutcome(total: total)
        let window = SubmitWindow(limit: inFlight)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<min(inFlight, max(1, total)) {
                group.addTask {
                    while !outcome.stopped {
                        let index = next.take()
                        guard index < total else { return }
                        let (number, line) = jobs[index]
                        let options = line.options
                        var pause = 50
                        while true {
                            await window.acquire()
                            if outcome.stopped {
                                await window.release(refused: false)
                                return
                            }
                            do {
                                _ = try await client.submit(line.function, Array((line.payload ?? "").utf8), options: options)
                                await window.release(refused: false)
                                progress.done()
                                outcome.acknowledged(index)
                                break
                            } catch GridError.busy(_, let retryAfter) {
                                // Admission control: wait as long as the broker says (with jitter), or back off;
                                // the window narrows meanwhile, so the other lines do not all retry too.
                                await window.release(refused: true)
                                progress.busy()
                                let wait =
                                    retryAfter.map { $0 * Double.random(in: 0.5...1.5) } ?? .milliseconds(pause + Int.random(in: 0...pause))
                                try await Task.sleep(for: wait)
                                pause = min(pause * 2, 2000)
                            } catch {
                                // Stop taking lines; the submits in flight end first, then the report says what is stored.
                                await window.release(refused: false)
                                outcome.failed(line: number, "\(error)")
                                await window.open()
                                return
                            }
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        ticker.cancel()
        progress.draw(elapsed: Date().timeIntervalSince(started))
        FileHandle.standardError.write(Data("\n".utf8))
        if let report = outcome.failureReport(path: path, lineNumbers: jobs.map(\.0)) {
            FileHandle.standardError.write(Data(report.utf8))
            throw ExitCode.failure
        }
        let seconds = Date().timeIntervalSince(started)
        print(
            "submitted \(total) jobs in \(String(format: "%.1f", seconds)) s (\(String(format: "%.0f", Double(total) / max(seconds, 0.001)))/s)"
        )
    }

    /// Whether `line` holds nothing but JSON whitespace (a carriage return of a CRLF file included).
    private static func isBlank(_ line: Data.SubSequence) -> Bool {
        line.allSatisfy { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\r") }
    }
}

/// Counts for the bulk-submit progress bar.
final class BulkProgress: Sendable {
    private let counts = Mutex((done: 0, busy: 0))
    let total: Int

    init(total: Int) { self.total = total }

    func done() { counts.withLock { $0.done += 1 } }
    func busy() { counts.withLock { $0.busy += 1 } }

    /// Redraws the bar on standard error.
    func draw(elapsed: Double) {
        let (done, busy) = counts.withLock { ($0.done, $0.busy) }
        let width = 30
        let filled = total == 0 ? width : width * done / total
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let line = String(
            format: "\r[%@] %d/%d jobs, %.0f/s, %d busy answers ", bar, done, total, Double(done) / max(elapsed, 0.001), busy)
        FileHandle.standardError.write(Data(line.utf8))
    }
}

/// Which lines of a bulk submit were acknowledged, and the failure of the earliest line, which stops it.
final class BulkOutcome: Sendable {
    private let state: Mutex<(acknowledged: [Bool], failure: (line: Int, message: String)?)>

    init(total: Int) { state = Mutex((Array(repeating: false, count: total), nil)) }

    /// Whether a submit failed, so no further line is taken.
    var stopped: Bool { state.withLock { $0.failure != nil } }

    /// The job of line index `index` is stored.
    func acknowledged(_ index: Int) { state.withLock { $0.acknowledged[index] = true } }

    /// The submit of file line `line` failed with `message`. The failure of the earliest line is
    /// kept, whichever was answered first: submits are pipelined, so a later line may fail sooner.
    func failed(line: Int, _ message: String) {
        state.withLock { state in
            if line < state.failure?.line ?? .max { state.failure = (line, message) }
        }
    }

    /// What to tell the user after a failure: which line failed and why, and which lines are not
    /// stored (`lineNumbers` gives each index's line in the file); nil when nothing failed.
    func failureReport(path: String, lineNumbers: [Int]) -> String? {
        state.withLock { state in
            guard let failure = state.failure else { return nil }
            let missing = state.acknowledged.indices.filter { !state.acknowledged[$0] }.map { lineNumbers[$0] }
            let stored = state.acknowledged.count - missing.count
            var report = "\(path):\(failure.line): \(failure.message)\n"
            // The failed line is among the missing ones, so there is a first.
            let first = missing.first ?? failure.line
            report += "stopped: \(stored) of \(state.acknowledged.count) jobs are stored (acknowledged); \(missing.count) lines are not, "
            report += "the first being line \(first): every line before it is stored.\n"
            report +=
                "A line whose submit was still unanswered when it stopped may be stored all the same; "
                + "resubmitting lines with a unique_key makes no second job of one still unfinished "
                + "(a job that has finished is free of its key, and runs again).\n"
            return report
        }
    }
}

/// Hands out 0, 1, 2, … to concurrent tasks.
final class TicketDispenser: Sendable {
    private let next = Mutex(0)

    /// The next number.
    func take() -> Int {
        next.withLock { value in
            defer { value += 1 }
            return value
        }
    }
}
