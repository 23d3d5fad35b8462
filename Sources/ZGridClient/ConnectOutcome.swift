import Dispatch
import Synchronization
import ZeroMQ

/// Whether the I/O thread's socket could connect to the broker's endpoint, handed to the thread
/// that created the client: the first report counts.
final class ConnectOutcome: Sendable {
    private let outcome = Mutex<ZMQError??>(nil)
    private let reported = DispatchSemaphore(value: 0)

    /// Records `error` (nil: connected) unless an outcome was reported already.
    func report(_ error: ZMQError?) {
        let first = outcome.withLock { outcome in
            guard outcome == nil else { return false }
            outcome = .some(error)
            return true
        }
        if first { reported.signal() }
    }

    /// Waits for the report; nil when the socket connected.
    func wait() -> ZMQError? {
        reported.wait()
        reported.signal()
        return outcome.withLock { $0 ?? nil }
    }
}
