import ZGridProtocol

/// Appends up to the given number of inputs to the buffer; false once no input is left.
@usableFromInline
typealias InputReader = (inout [[UInt8]], Int) -> Bool

/// One call of a run in the grid: which input, its bytes (kept for a retry after BUSY) and how
/// many times it was tried.
struct PipelineSlot {
    let index: Int
    let payload: [UInt8]
    let attempt: Int
}

/// One ``GridClient/callEach(_:_:inFlight:timeout:idempotent:priority:)`` run, on the client's I/O
/// thread: it reads inputs as the window opens, collects the outcomes of each pass and hands them
/// to the consumer together.
///
/// Created by the calling task and handed over through the mailbox; from then on only the I/O
/// thread touches it.
final class PipelineRun: @unchecked Sendable {
    /// Names the run in CANCEL from its consumer.
    let id: UInt64
    let function: String
    let flags: UInt8
    let priority: UInt8
    let timeoutMilliseconds: Int64
    /// The most calls in the grid at once.
    let window: Int
    /// The most outcomes held for a consumer that has not taken them.
    let heldLimit: Int
    let busyRetries: Int
    let consumer: PipelineConsumer
    let outcomes: AsyncThrowingStream<PipelineDelivery, any Error>.Continuation
    private let makeReader: @Sendable () -> InputReader
    private var reader: InputReader?
    /// Inputs read and not sent yet (a read takes as many as the window lets out).
    private var unsent: [[UInt8]] = []
    private var unsentPosition = 0
    private var nextIndex = 0
    /// Calls read and not answered yet: in the grid, or waiting to be tried again.
    private(set) var unanswered = 0
    private var exhausted = false
    private(set) var finished = false
    /// Outcomes of this pass, handed over by ``flush()``.
    private var collected: [CallResult] = []
    private var delivered = 0
    /// Calls answered BUSY, to send again at `at` (milliseconds) within `deadline`.
    private var retries: [(at: Int64, deadline: Int64, slot: PipelineSlot)] = []

    init(
        id: UInt64, function: String, flags: UInt8, priority: UInt8, timeoutMilliseconds: Int64, window: Int, busyRetries: Int,
        consumer: PipelineConsumer, outcomes: AsyncThrowingStream<PipelineDelivery, any Error>.Continuation,
        inputs: @escaping @Sendable () -> InputReader
    ) {
        self.id = id
        self.function = function
        self.flags = flags
        self.priority = priority
        self.timeoutMilliseconds = timeoutMilliseconds
        self.window = window
        heldLimit = max(4 * window, 1024)
        self.busyRetries = busyRetries
        self.consumer = consumer
        self.outcomes = outcomes
        makeReader = inputs
    }

    /// Whether every input has its outcome handed over.
    var isComplete: Bool { exhausted && unanswered == 0 && collected.isEmpty }

    /// The earliest time a call waits to be tried again, if any.
    var nextRetry: Int64? { retries.lazy.map(\.at).min() }

    /// Records the outcome of the call in `slot`.
    func record(_ slot: PipelineSlot, _ result: Result<[UInt8], GridError>) {
        guard !finished else { return }
        unanswered -= 1
        collected.append(CallResult(index: slot.index, result: result))
    }

    /// Records a failure; a BUSY answer with a retry-after time is tried again after that time
    /// (with jitter), as ``GridClient/call(_:_:timeout:idempotent:priority:)`` does, when the
    /// deadline allows.
    func failed(_ slot: PipelineSlot, _ error: GridError, deadline: Int64, now: Int64) {
        if !finished, let pause = error.busyRetryPause(after: slot.attempt, limit: busyRetries).map(GridClient.milliseconds),
            now + pause < deadline
        {
            retries.append((now + pause, deadline, PipelineSlot(index: slot.index, payload: slot.payload, attempt: slot.attempt + 1)))
            return
        }
        record(slot, .failure(error))
    }

    /// The next call to send at `now`, with its deadline: a due retry, or the next input while the
    /// window and the consumer allow. Nil when there is none for now.
    func nextCall(now: Int64) -> (slot: PipelineSlot, deadline: Int64)? {
        guard !finished else { return nil }
        if !retries.isEmpty, let position = retries.firstIndex(where: { $0.at <= now }) {
            let retry = retries.remove(at: position)
            return (retry.slot, retry.deadline)
        }
        guard !exhausted, unanswered < window else { return nil }
        let held = delivered + collected.count
        if held - consumer.takenCount >= heldLimit, consumer.waitIfStillBehind(heldLimit, delivered: held) { return nil }
        if unsentPosition == unsent.count && !read(window - unanswered) { return nil }
        let payload = unsent[unsentPosition]
        unsentPosition += 1
        defer { nextIndex += 1 }
        unanswered += 1
        return (PipelineSlot(index: nextIndex, payload: payload, attempt: 0), now + timeoutMilliseconds)
    }

    /// Reads up to `count` more inputs into ``unsent``; false, with the run marked exhausted, when
    /// none is left.
    private func read(_ count: Int) -> Bool {
        unsent.removeAll(keepingCapacity: true)
        unsentPosition = 0
        if reader == nil { reader = makeReader() }
        if let reader, reader(&unsent, count), !unsent.isEmpty { return true }
        exhausted = true
        reader = nil
        unsent = []
        return false
    }

    /// Hands the outcomes collected since the last flush to the consumer.
    func flush() {
        guard !collected.isEmpty, !finished else { return }
        let count = collected.count
        delivered += count
        outcomes.yield(.outcomes(collected))
        // The consumer now shares the buffer: emptying it in place would allocate a copy as large
        // as the largest pass so far (past the allocator's thread cache). A new one sized like this
        // pass's costs less.
        collected = []
        collected.reserveCapacity(count)
    }

    /// Ends the run: normally once complete, or with `error`.
    func finish(throwing error: GridError? = nil) {
        guard !finished else { return }
        if error == nil {
            flush()
            outcomes.yield(.done)
        }
        finished = true
        reader = nil
        unsent = []
        retries.removeAll()
        outcomes.finish(throwing: error)
    }
}
