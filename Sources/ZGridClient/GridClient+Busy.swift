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
                guard case .busy(_, let retryAfter?) = error, retries < busyRetries else { throw error }
                let pause = retryAfter * Double.random(in: 0.5...1.5)
                guard ContinuousClock.now + pause < deadline else { throw error }
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
