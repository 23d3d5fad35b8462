import ZGridProtocol

extension Worker {
    /// Serves `name` as a batch-capable function: the broker may hand it up to `maxItems` queued
    /// background jobs that share a batch key as one batch, sent once that many are queued or the
    /// oldest has waited `maxWait`, whichever comes first. Register before ``run()``, which throws
    /// ``WorkerError/invalidBatchLimits(_:maxItems:maxWaitMilliseconds:)`` unless `maxItems` is 1 to
    /// ``ZGridProtocol/BatchItems/maxItems`` (48) and `maxWait` 0 to 60 seconds.
    ///
    /// The handler runs once per batch, in one slot, and returns one ``BatchItemResult`` per item,
    /// in the items' order; each result goes back to its own job. Throwing fails the whole batch
    /// with that error; returning another number of results fails it with a handler error. A plain
    /// call or a job sent on its own reaches the same handler as a batch of one item (its job id 0
    /// for a call), and its caller gets that item's result.
    ///
    /// ```swift
    /// worker.registerBatch("index", maxItems: 32, maxWait: .milliseconds(100)) { items in
    ///     let documents = try await store.index(items.map(\.payload))      // one round trip for all
    ///     return documents.map { .success($0.id) }
    /// }
    /// ```
    public func registerBatch(
        _ name: String, maxItems: Int, maxWait: Duration, execution: HandlerExecution = .concurrent,
        _ handler: @escaping BatchHandler
    ) {
        let body = Registration.Body.batch(handler, maxItems: maxItems, maxWaitMilliseconds: Self.milliseconds(maxWait))
        add(name, Registration(body: body, execution: execution, shards: nil))
    }

    /// `duration` in whole milliseconds, saturating far outside the range batches accept.
    private static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        guard abs(seconds) < 1_000_000_000 else { return seconds < 0 ? -1 : Int.max }
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
