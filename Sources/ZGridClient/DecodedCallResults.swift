import Foundation

/// The outcome of one call of ``GridClient/callEach(_:_:returning:inFlight:timeout:idempotent:priority:)``:
/// the position of its input, and the decoded reply or why the call failed.
public struct DecodedCallResult<Output: Sendable>: Sendable {
    /// The position of the call's input in the inputs.
    public let index: Int
    /// The decoded reply, or why the call failed (``GridError/coding(_:)`` when the reply does not
    /// decode as `Output`).
    public let result: Result<Output, GridError>

    /// Creates an outcome.
    public init(index: Int, result: Result<Output, GridError>) {
        self.index = index
        self.result = result
    }
}

/// The outcomes of ``GridClient/callEach(_:_:returning:inFlight:timeout:idempotent:priority:)`` in
/// the order the calls complete, each reply decoded from JSON as `Output` by the iterating task.
///
/// Iteration behaves as ``CallResults``' does: it ends once every input has its outcome, throws
/// ``GridError/closed`` or ``GridError/cancelled`` when the run ends early, cancels the calls still
/// in the grid when stopped early, and can happen once.
public struct DecodedCallResults<Output: Decodable & Sendable>: AsyncSequence, Sendable {
    /// One call's outcome.
    public typealias Element = DecodedCallResult<Output>

    let base: CallResults
    let function: String

    /// Iterates outcomes as they arrive, decoding each reply.
    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: CallResults.AsyncIterator
        let function: String
        let decoder = JSONDecoder()

        /// The next outcome, or nil once every input has one; throws ``GridError`` when the run
        /// ended early.
        public mutating func next() async throws -> DecodedCallResult<Output>? {
            guard let outcome = try await base.next() else { return nil }
            return DecodedCallResult(index: outcome.index, result: outcome.result.flatMap(decode))
        }

        private func decode(_ reply: [UInt8]) -> Result<Output, GridError> {
            do {
                return .success(try decoder.decode(Output.self, from: Data(reply)))
            } catch {
                return .failure(.coding("cannot decode the reply of '\(function)' as \(Output.self): \(error)"))
            }
        }
    }

    /// Starts iterating.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), function: function)
    }

    /// Waits for every outcome and returns them in input order; throws as iteration does.
    public func inInputOrder() async throws -> [Result<Output, GridError>] {
        try await collectInInputOrder(self) { ($0.index, $0.result) }
    }
}
