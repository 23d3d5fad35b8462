import Foundation

extension GridClient {
    /// Calls `function` once for each of `inputs`, encoded as JSON, keeping up to `inFlight` calls
    /// in the grid at once, and returns their outcomes as they complete, each reply decoded as
    /// `Output`: the `Codable` form of ``callEach(_:_:inFlight:timeout:idempotent:priority:)``.
    ///
    /// Every input is encoded before the first call is sent: an input that cannot be encoded throws
    /// ``GridError/coding(_:)`` and no call is made. The encoded inputs are held until their calls
    /// are sent; for very many large inputs, encode them as their turn comes with
    /// ``callEach(_:count:inFlight:timeout:idempotent:priority:input:)``. A reply that does not
    /// decode as `Output` is that input's outcome (``GridError/coding(_:)``); the others go on.
    public func callEach<Input: Encodable, Output: Decodable & Sendable>(
        _ function: String, _ inputs: [Input], returning: Output.Type = Output.self, inFlight: Int = 200,
        timeout: Duration = .seconds(30), idempotent: Bool = false, priority: Int = 0
    ) throws(GridError) -> DecodedCallResults<Output> {
        let encoder = JSONEncoder()
        var payloads: [[UInt8]] = []
        payloads.reserveCapacity(inputs.count)
        for (index, input) in inputs.enumerated() {
            do { payloads.append(Array(try encoder.encode(input))) } catch {
                throw .coding("cannot encode input \(index) (\(Input.self)): \(error)")
            }
        }
        let base = try callEach(function, payloads, inFlight: inFlight, timeout: timeout, idempotent: idempotent, priority: priority)
        return DecodedCallResults(base: base, function: function)
    }
}
