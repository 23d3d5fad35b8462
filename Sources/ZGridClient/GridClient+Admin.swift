import Foundation
import ZGridProtocol

extension GridClient {
    /// The broker's status report: workers, functions with their load and latency, jobs, counters.
    public func brokerStatus() async throws(GridError) -> StatusReport {
        let bytes = try await request(
            .admin, [[AdminVerb.status.rawValue]], timeoutMilliseconds: Self.jobCommandTimeout, resendable: true)
        do { return try JSONDecoder().decode(StatusReport.self, from: Data(bytes)) } catch {
            throw .coding("cannot decode the broker's status: \(error)")
        }
    }

    /// Stops the broker sending new work to a worker (named by its id in hexadecimal, as in the
    /// status report); its running calls and jobs finish. Returns whether the broker knew the worker.
    @discardableResult
    public func drain(worker id: String) async throws(GridError) -> Bool {
        let bytes = try await request(.admin, [[AdminVerb.drain.rawValue], Array(id.utf8)], timeoutMilliseconds: Self.jobCommandTimeout)
        return String(decoding: bytes, as: UTF8.self).contains("\"drained\":true")
    }
}
