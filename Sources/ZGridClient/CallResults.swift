import Synchronization
import ZGridProtocol

/// The outcome of one call of ``GridClient/callEach(_:_:inFlight:timeout:idempotent:priority:)``.
public struct CallResult: Sendable {
    /// The position of the call's input in the inputs.
    public let index: Int
    /// The reply, or why the call failed.
    public let result: Result<[UInt8], GridError>

    /// Creates an outcome.
    public init(index: Int, result: Result<[UInt8], GridError>) {
        self.index = index
        self.result = result
    }
}

/// The outcomes of ``GridClient/callEach(_:_:inFlight:timeout:idempotent:priority:)``, one per
/// input, in the order the calls complete (``CallResult/index`` says which input each answers).
///
/// A failed call is an outcome like any other; iteration throws only when the run as a whole
/// ends early (the client was closed). Stopping early (breaking out, or cancelling the task)
/// cancels the calls still in the grid and sends no more.
public struct CallResults: AsyncSequence, Sendable {
    /// One call's outcome.
    public typealias Element = CallResult

    let chunks: AsyncThrowingStream<[CallResult], any Error>
    let consumer: PipelineConsumer

    /// Iterates outcomes as they arrive.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<[CallResult], any Error>.AsyncIterator
        let consumer: PipelineConsumer
        var chunk: [CallResult] = []
        var position = 0

        /// The next outcome, or nil once every input has one; throws ``GridError`` when the run
        /// ended early.
        public mutating func next() async throws -> CallResult? {
            if position < chunk.count {
                position += 1
                return chunk[position - 1]
            }
            // The I/O thread hands over the outcomes of one pass at a time.
            while let next = try await base.next() {
                consumer.took(next.count)
                guard !next.isEmpty else { continue }
                chunk = next
                position = 1
                return next[0]
            }
            return nil
        }
    }

    /// Starts iterating (the outcomes can be iterated once).
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: chunks.makeAsyncIterator(), consumer: consumer)
    }

    /// Waits for every outcome and returns them in input order.
    public func inInputOrder() async throws -> [Result<[UInt8], GridError>] {
        var ordered: [Result<[UInt8], GridError>?] = []
        for try await outcome in self {
            if outcome.index >= ordered.count { ordered.append(contentsOf: repeatElement(nil, count: outcome.index - ordered.count + 1)) }
            ordered[outcome.index] = outcome.result
        }
        return ordered.map { $0 ?? .failure(.internal("no outcome")) }
    }
}

/// What the consumer of a run shares with the I/O thread: how many outcomes it has taken, so the
/// I/O thread holds at most a bounded number untaken, and whether the I/O thread waits for it.
final class PipelineConsumer: Sendable {
    private let taken = Atomic<Int>(0)
    private let waiting = Atomic<Bool>(false)
    private let mailbox: Mailbox<ClientCommandItem>

    init(mailbox: Mailbox<ClientCommandItem>) { self.mailbox = mailbox }

    /// How many outcomes the consumer has taken.
    var takenCount: Int { taken.load(ordering: .sequentiallyConsistent) }

    /// Records that the consumer took `count` outcomes, and wakes the I/O thread if it waits.
    func took(_ count: Int) {
        taken.add(count, ordering: .sequentiallyConsistent)
        if waiting.load(ordering: .sequentiallyConsistent), waiting.exchange(false, ordering: .sequentiallyConsistent) {
            mailbox.post(.resume)
        }
    }

    /// Called by the I/O thread when too many outcomes wait: true when it must wait for the
    /// consumer (who will wake it), false when the consumer took some meanwhile.
    func waitIfStillBehind(_ limit: Int, delivered: Int) -> Bool {
        waiting.store(true, ordering: .sequentiallyConsistent)
        if delivered - takenCount < limit {
            waiting.store(false, ordering: .sequentiallyConsistent)
            return false
        }
        return true
    }
}
