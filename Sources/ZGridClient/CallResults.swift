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
/// A failed call is an outcome like any other. Iteration ends (`nil`) once every input has its
/// outcome, and throws ``GridError`` when the run ends early: ``GridError/closed`` when the client
/// was closed, ``GridError/cancelled`` when the iterating task was cancelled. Stopping early
/// (breaking out of the loop, cancelling the task, dropping the results) cancels the calls still
/// in the grid and sends no more. The outcomes can be iterated once, by one task; a second
/// iteration throws ``GridError/invalidArgument(_:)``. They do not keep the client open.
public struct CallResults: AsyncSequence, Sendable {
    /// One call's outcome.
    public typealias Element = CallResult

    let deliveries: AsyncThrowingStream<PipelineDelivery, any Error>
    let consumer: PipelineConsumer

    /// Iterates outcomes as they arrive.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<PipelineDelivery, any Error>.AsyncIterator
        let consumer: PipelineConsumer
        /// Cancels the run when the iteration is dropped before its end; nil for an iterator
        /// refused because the outcomes were iterated before.
        let token: IterationToken?
        var chunk: [CallResult] = []
        var position = 0
        var ended = false

        /// The next outcome, or nil once every input has one; throws ``GridError`` when the run
        /// ended early.
        public mutating func next() async throws -> CallResult? {
            if position < chunk.count {
                position += 1
                return chunk[position - 1]
            }
            guard let token else { throw GridError.invalidArgument("the outcomes of a callEach run can be iterated once") }
            if ended { return nil }
            // The I/O thread hands over the outcomes of one pass at a time.
            do {
                while let delivery = try await base.next() {
                    switch delivery {
                    case .outcomes(let next):
                        consumer.took(next.count)
                        guard !next.isEmpty else { continue }
                        chunk = next
                        position = 1
                        return next[0]
                    case .done:
                        ended = true
                        token.ended()
                        return nil
                    }
                }
            } catch {
                token.ended()
                throw error
            }
            // The stream ended without saying the run was done: the iterating task was cancelled.
            token.ended()
            throw GridError.cancelled
        }
    }

    /// Starts iterating.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: deliveries.makeAsyncIterator(), consumer: consumer, token: consumer.claim())
    }

    /// Waits for every outcome and returns them in input order; throws as iteration does.
    public func inInputOrder() async throws -> [Result<[UInt8], GridError>] {
        try await collectInInputOrder(self) { ($0.index, $0.result) }
    }
}

/// The outcomes of `outcomes` (each split by `split` into its input's index and its result),
/// placed at their inputs' positions.
func collectInInputOrder<Outcomes: AsyncSequence, Value>(
    _ outcomes: Outcomes, _ split: (Outcomes.Element) -> (index: Int, result: Result<Value, GridError>)
) async throws -> [Result<Value, GridError>] {
    var ordered: [Result<Value, GridError>?] = []
    for try await outcome in outcomes {
        let (index, result) = split(outcome)
        if index >= ordered.count { ordered.append(contentsOf: repeatElement(nil, count: index - ordered.count + 1)) }
        ordered[index] = result
    }
    return ordered.map { $0 ?? .failure(.internal("no outcome")) }
}

/// What the I/O thread hands a run's consumer.
enum PipelineDelivery: Sendable {
    /// The outcomes of one pass.
    case outcomes([CallResult])
    /// Every input has its outcome.
    case done
}

/// Cancels a run when the iteration that holds it is dropped before the run's end.
final class IterationToken: Sendable {
    private let mailbox: Mailbox<ClientCommandItem>
    private let runID: UInt64
    private let finished = Atomic<Bool>(false)

    init(mailbox: Mailbox<ClientCommandItem>, runID: UInt64) {
        self.mailbox = mailbox
        self.runID = runID
    }

    /// The run ended (done, failed or cancelled): nothing to cancel.
    func ended() { finished.store(true, ordering: .relaxed) }

    deinit {
        if !finished.load(ordering: .relaxed) { mailbox.post(.cancel(id: runID)) }
    }
}

/// What the consumer of a run shares with the I/O thread: how many outcomes it has taken, so the
/// I/O thread holds at most a bounded number untaken, and whether the I/O thread waits for it.
final class PipelineConsumer: Sendable {
    private let taken = Atomic<Int>(0)
    private let waiting = Atomic<Bool>(false)
    private let claimed = Atomic<Bool>(false)
    private let mailbox: Mailbox<ClientCommandItem>
    private let runID: UInt64

    init(mailbox: Mailbox<ClientCommandItem>, runID: UInt64) {
        self.mailbox = mailbox
        self.runID = runID
    }

    /// The token of the one iteration allowed; nil for any later one.
    func claim() -> IterationToken? {
        claimed.exchange(true, ordering: .relaxed) ? nil : IterationToken(mailbox: mailbox, runID: runID)
    }

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
