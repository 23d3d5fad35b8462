import ArgumentParser
import Foundation
import Synchronization
import ZGridClient

/// Submits every line of a JSON Lines file, keeping many submits in flight, with a progress bar.
/// A BUSY answer (admission control) is retried after a pause, so nothing is skipped.
struct BulkSubmit {
    /// One line of the file.
    struct Line: Decodable, Sendable {
        let function: String
        let payload: String?
        let priority: Int?
        let delay_ms: Int?
        let max_attempts: Int?
        let unique_key: String?
        let tags: [String]?
        let replace_key: String?
        let fairness_key: String?
        let batch_key: String?
        let sheddable: Bool?
    }

    let client: GridClient
    let path: String
    let inFlight: Int

    func run() async throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ValidationError("cannot open \(path)") }
        let data = handle.readDataToEndOfFile()
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
        var parsed: [(Int, Line)] = []
        parsed.reserveCapacity(lines.count)
        let decoder = JSONDecoder()
        for (number, line) in lines.enumerated() {
            do { parsed.append((number + 1, try decoder.decode(Line.self, from: Data(line)))) } catch {
                throw ValidationError("\(path):\(number + 1): expected a JSON object with at least \"function\": \(error)")
            }
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
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<min(inFlight, max(1, total)) {
                group.addTask {
                    while true {
                        let index = next.take()
                        guard index < total else { return }
                        let (number, line) = jobs[index]
                        let options = JobOptions(
                            priority: line.priority ?? 0, delay: line.delay_ms.map { .milliseconds($0) },
                            maxAttempts: line.max_attempts ?? 3,
                            uniqueKey: line.unique_key, tags: line.tags ?? [], replaceKey: line.replace_key,
                            fairnessKey: line.fairness_key, batchKey: line.batch_key, sheddable: line.sheddable ?? false)
                        var pause = 50
                        while true {
                            do {
                                _ = try await client.submit(line.function, Array((line.payload ?? "").utf8), options: options)
                                progress.done()
                                break
                            } catch GridError.busy(_, let retryAfter) {
                                // Admission control: wait as long as the broker says (with jitter), or back off.
                                progress.busy()
                                let wait =
                                    retryAfter.map { $0 * Double.random(in: 0.5...1.5) } ?? .milliseconds(pause + Int.random(in: 0...pause))
                                try await Task.sleep(for: wait)
                                pause = min(pause * 2, 2000)
                            } catch {
                                throw ValidationError("\(path):\(number): \(error)")
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
        let seconds = Date().timeIntervalSince(started)
        print(
            "submitted \(total) jobs in \(String(format: "%.1f", seconds)) s (\(String(format: "%.0f", Double(total) / max(seconds, 0.001)))/s)"
        )
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
