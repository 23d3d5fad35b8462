import ZGridProtocol

extension GridClient {
    /// Calls `function` once for each of `inputs`, keeping up to `inFlight` calls in the grid at
    /// once, and returns their outcomes as they complete.
    ///
    /// For many calls of one function (a backfill, a bulk lookup) this is faster than as many
    /// ``call(_:_:timeout:idempotent:priority:)``s from separate tasks: the client's I/O thread
    /// reads the next input as soon as a call completes and sends it in the same pass, with no
    /// task switch per call. Inputs are read on that thread as the window opens, so the sequence
    /// should produce them cheaply (an array, or a lazy map over one); the outcomes wait for the
    /// consumer, and while several thousand do, no more inputs are read.
    ///
    /// Each call behaves as a ``call(_:_:timeout:idempotent:priority:)``: `timeout` is its own time
    /// limit from when it is sent, and an answer BUSY with a retry-after time is tried again up to
    /// ``busyRetries`` times. A call's failure is its outcome; the others go on.
    ///
    /// - Parameters:
    ///   - inFlight: the most calls sent and not yet answered (1 to 100,000).
    ///   - timeout: each call's time limit.
    ///   - idempotent: each call is safe to run twice, so the broker may retry it when a worker dies.
    ///   - priority: 0 (lowest) to 9.
    public func callEach<Inputs: Sequence & Sendable>(
        _ function: String, _ inputs: Inputs, inFlight: Int = 200, timeout: Duration = .seconds(30), idempotent: Bool = false,
        priority: Int = 0
    ) throws(GridError) -> CallResults where Inputs.Element == [UInt8] {
        let milliseconds = try validate(function, timeout: timeout, priority: priority)
        guard (1...Self.maxInFlight).contains(inFlight) else {
            throw .invalidArgument("inFlight \(inFlight) is outside 1...\(Self.maxInFlight)")
        }
        let (chunks, continuation) = AsyncThrowingStream<[CallResult], any Error>.makeStream()
        let consumer = PipelineConsumer(mailbox: mailbox)
        let run = PipelineRun(
            id: ids.next(), function: function, flags: idempotent ? CallHeader.idempotentFlag : 0, priority: UInt8(priority),
            timeoutMilliseconds: milliseconds, window: inFlight, busyRetries: busyRetries, consumer: consumer, outcomes: continuation,
            inputs: { Self.reader(of: inputs) })
        let mailbox = self.mailbox
        let runID = run.id
        continuation.onTermination = { termination in
            if case .cancelled = termination { mailbox.post(.cancel(id: runID)) }
        }
        mailbox.post(.pipeline(run))
        return CallResults(chunks: chunks, consumer: consumer)
    }

    /// A reader of `inputs`, made on the I/O thread: it reads them in runs, so the iterator's
    /// type is dealt with once per run, not once per input.
    private static func reader<Inputs: Sequence>(of inputs: Inputs) -> InputReader where Inputs.Element == [UInt8] {
        var iterator = inputs.makeIterator()
        var ended = false  // an iterator is not asked again once it has returned nil
        return { buffer, count in
            for _ in 0..<count where !ended {
                guard let input = iterator.next() else {
                    ended = true
                    break
                }
                buffer.append(input)
            }
            return !buffer.isEmpty
        }
    }

    /// The most calls ``callEach(_:_:inFlight:timeout:idempotent:priority:)`` keeps in flight.
    public static let maxInFlight = 100_000
}
