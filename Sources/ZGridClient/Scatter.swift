import Synchronization
import ZGridProtocol

/// When a scatter's gathering is complete.
public enum GatherPolicy: Sendable, Equatable {
    /// Every part has answered or failed.
    case all
    /// The first `n` parts have succeeded; the others are cancelled.
    case first(Int)
    /// More than half of the parts have succeeded; the others are cancelled.
    case quorum

    /// Whether a scatter that ended with `summary` gathered what this policy asks for.
    public func isSatisfied(by summary: ScatterSummary) -> Bool {
        switch self {
        case .all: summary.succeeded == summary.parts
        case .first(let n): summary.succeeded >= min(n, summary.parts)
        case .quorum: summary.succeeded * 2 > summary.parts
        }
    }

    var wire: ScatterSpec.Gather {
        switch self {
        case .all: .all
        case .first(let n): .first(n)
        case .quorum: .quorum
        }
    }
}

/// One part of a scatter: which one, its outcome, and when it arrived.
public struct ScatterPart: Sendable {
    /// The shard for a query over a sharded function; the worker's position for a plain one;
    /// the input's position for a parallel map.
    public let index: Int
    /// The reply, or why this part is missing (timeout, no worker holds the shard, handler error…).
    public let result: Result<[UInt8], GridError>
    /// Time from the scatter's start until this part arrived at the client.
    public let elapsed: Duration
}

/// Everything a scatter gathered.
public struct GatheredResult: Sendable {
    /// Every part that arrived, in order of arrival.
    public let parts: [ScatterPart]
    /// The broker's count of parts, successes and failures; nil when the scatter ended without
    /// one (the broker was unreachable, the scatter as a whole failed, or it was cancelled).
    public let summary: ScatterSummary?
    /// Why the scatter as a whole failed, if it did (unknown function, broker unreachable…), or
    /// ``GridError/cancelled`` when the gathering task was cancelled before the scatter was over.
    public let error: GridError?

    /// The successful replies by part index.
    public var replies: [Int: [UInt8]] {
        var replies: [Int: [UInt8]] = [:]
        for part in parts { if case .success(let bytes) = part.result { replies[part.index] = bytes } }
        return replies
    }

    /// Why each failed part is missing, by part index.
    public var failures: [Int: GridError] {
        var failures: [Int: GridError] = [:]
        for part in parts { if case .failure(let error) = part.result { failures[part.index] = error } }
        return failures
    }

    /// Whether every part of the scatter succeeded.
    public var isComplete: Bool {
        guard let summary, error == nil else { return false }
        return summary.succeeded == summary.parts
    }
}

/// What the client's I/O thread delivers for a scatter.
enum ScatterEvent: Sendable {
    case part(ScatterPart)
    case done(ScatterSummary)
}

/// The parts of a scatter as they arrive: `for try await part in stream`, or ``gathered()``.
///
/// Iteration ends when the broker says the scatter is over; it throws when the scatter as a whole
/// fails, and ``GridError/cancelled`` when the iterating task is cancelled before that. Stopping
/// early (breaking out, or cancelling the task) cancels the scatter in the grid.
public struct ScatterStream: AsyncSequence, Sendable {
    /// One part.
    public typealias Element = ScatterPart

    let events: AsyncThrowingStream<ScatterEvent, any Error>
    let summary: SummaryBox

    /// Iterates parts as they arrive.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<ScatterEvent, any Error>.AsyncIterator
        let summary: SummaryBox

        /// The next part, or nil once the scatter is over.
        public mutating func next() async throws -> ScatterPart? {
            while let event = try await base.next() {
                switch event {
                case .part(let part): return part
                case .done(let done): summary.value.withLock { $0 = done }
                }
            }
            // The stream ends without DONE or an error only when the iterating task was cancelled
            // (which cancels the scatter in the grid): say so, rather than end as a finished scatter.
            if Task.isCancelled && summary.value.withLock({ $0 == nil }) { throw GridError.cancelled }
            return nil
        }
    }

    /// The broker's summary of the scatter (parts, succeeded, failed), once iteration has ended
    /// normally; nil before, or when the scatter failed as a whole.
    public var doneSummary: ScatterSummary? { summary.value.withLock { $0 } }

    /// Makes the iterator (a scatter can be iterated once).
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: events.makeAsyncIterator(), summary: summary)
    }

    /// Waits for the whole scatter and returns every part with the summary; never throws: a
    /// failure of the whole scatter is in ``GatheredResult/error``.
    public func gathered() async -> GatheredResult {
        var parts: [ScatterPart] = []
        var failure: GridError?
        do {
            for try await part in self { parts.append(part) }
        } catch let error as GridError {
            failure = error
        } catch {
            failure = .internal("\(error)")
        }
        return GatheredResult(parts: parts, summary: summary.value.withLock { $0 }, error: failure)
    }
}

/// Holds the DONE summary for a stream's consumer.
final class SummaryBox: Sendable {
    let value = Mutex<ScatterSummary?>(nil)
}
