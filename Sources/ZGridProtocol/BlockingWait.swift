import Foundation

/// Runs `body`, which blocks (waits for a thread, a process, a semaphore), on a thread of its own
/// and suspends until it returns.
///
/// Neither a Swift concurrency thread nor one of Dispatch's shared threads is held meanwhile: on
/// Linux, Dispatch adds a thread for one blocked only after up to a second, so work queued behind
/// a blocking call there (a forced stop, say) would wait that long.
public func waitOffThePool(_ body: @escaping @Sendable () -> Void) async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        Thread {
            body()
            continuation.resume()
        }.start()
    }
}
