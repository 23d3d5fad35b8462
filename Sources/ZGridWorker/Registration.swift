import ZGridProtocol

/// A registered function: its body, where it runs, the shards it holds and its batching.
struct Registration: Sendable {
    /// What the function runs.
    enum Body: Sendable {
        /// A handler of one request at a time.
        case single(WorkerHandler)
        /// A synchronous handler run inline on the I/O thread, without a task.
        case inline(InlineHandler)
        /// A batch handler, with the batch limits announced to the broker (checked by ``Worker/run()``).
        case batch(BatchHandler, maxItems: Int, maxWaitMilliseconds: Int)
    }

    let body: Body
    let execution: HandlerExecution
    let shards: ShardSpec?

    /// The batch limits of a batch function; nil for a plain function or limits out of range.
    var batchSpec: BatchSpec? {
        guard case .batch(_, let maxItems, let maxWaitMilliseconds) = body else { return nil }
        return BatchSpec(maxItems: maxItems, maxWaitMilliseconds: maxWaitMilliseconds)
    }

    /// Whether the function is a batch function.
    var isBatch: Bool {
        if case .batch = body { return true }
        return false
    }

    /// How the function is announced in READY.
    func descriptor(_ name: String) -> ServiceDescriptor {
        ServiceDescriptor(name: name, shards: shards, batch: batchSpec)
    }
}
