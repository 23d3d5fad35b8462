extension GridClient {
    /// Runs `attempt`; while it fails BUSY with a retry-after time, runs it again after that time
    /// with jitter, at most ``busyRetries`` times and never past `deadline`. `firstFailure`, when
    /// given, is how an attempt made before failed: it counts as the first run.
    func retryingBusy<T>(
        until deadline: ContinuousClock.Instant, after firstFailure: GridError? = nil, _ attempt: () async throws(GridError) -> T
    ) async throws(GridError) -> T {
        var retries = 0
        var failure = firstFailure
        while true {
            if let error = failure {
                guard let pause = error.busyRetryPause(after: retries, limit: busyRetries), ContinuousClock.now + pause < deadline else {
                    throw error
                }
                retries += 1
                do { try await Task.sleep(for: pause) } catch { throw .cancelled }
            }
            do {
                return try await attempt()
            } catch {
                failure = error
            }
        }
    }

}

extension GridError {
    /// How long to wait before trying again a request refused with this error, after `retries`
    /// tries again of at most `limit`: a BUSY answer's retry-after time with jitter (×0.5 to ×1.5);
    /// nil when it is not tried again.
    func busyRetryPause(after retries: Int, limit: Int) -> Duration? {
        guard case .busy(_, let retryAfter?) = self, retries < limit else { return nil }
        return retryAfter * Double.random(in: 0.5...1.5)
    }
}
