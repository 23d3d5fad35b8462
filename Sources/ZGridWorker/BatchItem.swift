/// One job of a batch handed to a batch handler (see ``Worker/registerBatch(_:maxItems:maxWait:execution:_:)``).
public struct BatchItem: Sendable, Equatable {
    /// The background job's id; 0 when the function was called directly rather than as a job.
    public let job: UInt64
    /// Which attempt of the job this is, 1 for the first.
    public let attempt: Int
    /// The job's payload.
    public let payload: [UInt8]

    /// Creates an item (for calling a batch handler outside a worker, such as in tests).
    public init(job: UInt64, attempt: Int, payload: [UInt8]) {
        self.job = job
        self.attempt = attempt
        self.payload = payload
    }
}

/// The outcome of one item of a batch: a batch handler returns one per item, in the items' order.
/// Each goes back to its own job, so one item can fail while the others succeed; to fail the
/// whole batch, throw from the handler instead.
public enum BatchItemResult: Sendable {
    /// The item succeeded with this result payload.
    case success([UInt8])
    /// The item failed with this code and message.
    case failure(HandlerFailure)
}

/// A batch function body: takes the batch's items, returns one result per item in the same order,
/// or throws to fail every item of the batch with one error.
public typealias BatchHandler = @Sendable ([BatchItem]) async throws -> [BatchItemResult]
