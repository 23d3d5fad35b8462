import Logging
import ZGridJobStore

/// Logs the job store's failed commits without flooding the log: a failed commit is logged as an
/// error when it fails for another reason than the last one logged, or when that line is a minute
/// old (saying how many failed meanwhile); the first commit that succeeds after a logged failure is
/// logged with how many failed since.
///
/// A store that cannot write (a full disk) fails every commit while clients keep submitting, and a
/// nearly full one lets the small commits through between them: a line per failed commit, or per
/// turn between failing and succeeding, would bury the rest of the log.
struct StoreFailureLog {
    /// How long the same failure stays unlogged, in milliseconds.
    static let repeatAfterMilliseconds: Int64 = 60_000
    /// The failed commits since the last one that succeeded.
    private(set) var failures = 0
    /// The failed commits not logged since the last failure logged.
    private var unlogged = 0
    /// Whether a failure since the last commit that succeeded was logged.
    private var failureLogged = false
    /// The last failure logged, and when (monotonic milliseconds).
    private var lastLogged: (description: String, at: Int64)?

    /// Notes a failed commit at `now` (monotonic milliseconds), and logs it when due.
    mutating func failed(_ error: JobStoreError, now: Int64, logger: Logger) {
        failures += 1
        let description = "\(error)"
        if let lastLogged, lastLogged.description == description, now - lastLogged.at < Self.repeatAfterMilliseconds {
            unlogged += 1
            return
        }
        let since = unlogged > 0 ? " (\(unlogged) more failed commits since the last such line)" : ""
        logger.error(
            "job store failed: \(description); submits and other changes that need the store fail until a commit succeeds\(since) (this failure is logged again at most once a minute)"
        )
        lastLogged = (description, now)
        unlogged = 0
        failureLogged = true
    }

    /// Notes a commit that succeeded, and logs the end of failures that were logged.
    mutating func committed(logger: Logger) {
        guard failures > 0 else { return }
        if failureLogged {
            logger.notice("job store commits again, after \(failures) failed \(failures == 1 ? "commit" : "commits")")
        }
        failures = 0
        failureLogged = false
    }
}
