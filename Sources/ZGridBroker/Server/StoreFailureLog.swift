import Logging
import ZGridJobStore

/// Logs the job store's failed commits without flooding the log: the first failure of a spell
/// is logged as an error, and a later one only when it fails for another reason; the first
/// commit that succeeds after them is logged with how many failed meanwhile.
///
/// A store that cannot write (a full disk) fails every commit while clients keep submitting: one
/// line per failed commit would bury the rest of the log.
struct StoreFailureLog {
    /// The failed commits since the last one that succeeded.
    private(set) var failures = 0
    /// The description of the last failure logged in this spell.
    private var lastLogged: String?

    /// Notes a failed commit, and logs it when it starts a spell or fails for a new reason.
    mutating func failed(_ error: JobStoreError, logger: Logger) {
        failures += 1
        let description = "\(error)"
        guard description != lastLogged else { return }
        lastLogged = description
        logger.error(
            "job store failed: \(description); submits and other changes that need the store fail until a commit succeeds (further failures for this reason are not logged)"
        )
    }

    /// Notes a commit that succeeded, and logs the end of a spell of failures.
    mutating func committed(logger: Logger) {
        guard failures > 0 else { return }
        logger.notice("job store commits again, after \(failures) failed \(failures == 1 ? "commit" : "commits")")
        failures = 0
        lastLogged = nil
    }
}
