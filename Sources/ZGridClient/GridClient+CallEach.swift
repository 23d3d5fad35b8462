import ZGridProtocol

extension GridClient {
    /// Calls `function` once for each of `inputs`, keeping up to `inFlight` calls in the grid at
    /// once, and returns their outcomes as they complete.
    ///
    /// For many calls of one function (a backfill, a bulk lookup) this is faster than as many
    /// ``call(_:_:timeout:idempotent:priority:)``s from separate tasks: the client's I/O thread
    /// reads the next input as soon as a call completes and sends it in the same pass, with no
    /// task switch per call. Inputs are read on that thread as the window opens, so the sequence
    /// should produce them cheaply; the outcomes wait for the consumer, and while more than
    /// `max(4 × inFlight, 1024)` do, no more inputs are read. To make inputs as they are needed,
    /// use ``callEach(_:count:inFlight:timeout:idempotent:priority:input:)``: the standard
    /// library's lazy sequences are not `Sendable`, and `.lazy.map` written here builds an array
    /// first.
    ///
    /// Each call behaves as a ``call(_:_:timeout:idempotent:priority:)``: `timeout` is its own time
    /// limit from when it is sent, and an answer BUSY with a retry-after time is tried again up to
    /// ``busyRetries`` times. A call's failure is its outcome; the others go on. The broker limits
    /// the calls and scatters one client has in flight (the limit it says in its heartbeats; see
    /// ``inFlightLimit``), all runs, calls and scatters of the client together: a run sends its
    /// next call only when that leaves room and no other call or scatter of the client waits for
    /// room.
    ///
    /// - Parameters:
    ///   - inFlight: the most calls sent and not yet answered (1 to ``maxInFlight``).
    ///   - timeout: each call's time limit.
    ///   - idempotent: each call is safe to run twice, so the broker may retry it when a worker dies,
    ///     and the client sends it again when its connection to the broker drops before the answer.
    ///   - priority: 0 (lowest) to 9.
    @inlinable
    public func callEach<Inputs: Sequence & Sendable>(
        _ function: String, _ inputs: Inputs, inFlight: Int = 200, timeout: Duration = .seconds(30), idempotent: Bool = false,
        priority: Int = 0
    ) throws(GridError) -> CallResults where Inputs.Element == [UInt8] {
        try startRun(function, inFlight: inFlight, timeout: timeout, idempotent: idempotent, priority: priority) {
            Self.reader(of: inputs)
        }
    }

    /// Calls `function` once for each index in `0..<count`, with the payload `input(index)` makes
    /// when the call's turn comes; otherwise as ``callEach(_:_:inFlight:timeout:idempotent:priority:)``.
    ///
    /// `input` runs on the client's I/O thread, one index after the other: keep it short and
    /// non-blocking.
    public func callEach(
        _ function: String, count: Int, inFlight: Int = 200, timeout: Duration = .seconds(30), idempotent: Bool = false,
        priority: Int = 0, input: @escaping @Sendable (Int) -> [UInt8]
    ) throws(GridError) -> CallResults {
        guard count >= 0 else { throw .invalidArgument("count \(count) is negative") }
        return try startRun(function, inFlight: inFlight, timeout: timeout, idempotent: idempotent, priority: priority) {
            var next = 0
            return { buffer, wanted in
                while next < count && wanted > buffer.count {
                    buffer.append(input(next))
                    next += 1
                }
                return !buffer.isEmpty
            }
        }
    }

    /// The most calls ``callEach(_:_:inFlight:timeout:idempotent:priority:)`` keeps in flight, and
    /// the limit of calls and scatters in flight per client taken for a broker that does not say
    /// its own: the reference broker's default (`maxInFlightPerClient`).
    public static let maxInFlight = 10_000

    /// Checks the arguments of a run and hands it to the I/O thread.
    @usableFromInline
    func startRun(
        _ function: String, inFlight: Int, timeout: Duration, idempotent: Bool, priority: Int,
        reader: @escaping @Sendable () -> InputReader
    ) throws(GridError) -> CallResults {
        let milliseconds = try validate(function, timeout: timeout, priority: priority)
        guard (1...Self.maxInFlight).contains(inFlight) else {
            throw .invalidArgument("inFlight \(inFlight) is outside 1...\(Self.maxInFlight)")
        }
        let (deliveries, continuation) = AsyncThrowingStream<PipelineDelivery, any Error>.makeStream()
        let runID = ids.next()
        let consumer = PipelineConsumer(mailbox: mailbox, runID: runID)
        let run = PipelineRun(
            id: runID, function: function, flags: idempotent ? CallHeader.idempotentFlag : 0, priority: UInt8(priority),
            timeoutMilliseconds: milliseconds, window: inFlight, busyRetries: busyRetries, consumer: consumer, outcomes: continuation,
            inputs: reader)
        let mailbox = self.mailbox
        continuation.onTermination = { termination in
            if case .cancelled = termination { mailbox.post(.cancel(id: runID)) }
        }
        mailbox.post(.pipeline(run))
        return CallResults(deliveries: deliveries, consumer: consumer)
    }

    /// A reader of `inputs`, made on the I/O thread: it reads them in runs. Inlined into the
    /// caller's module, so that the iterator is specialized for the caller's sequence type: the
    /// unspecialized iterator looked up generic metadata for every input, a fifth of the I/O
    /// thread's time.
    @inlinable
    static func reader<Inputs: Sequence>(of inputs: Inputs) -> InputReader where Inputs.Element == [UInt8] {
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
}
