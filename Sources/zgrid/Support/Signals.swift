import Dispatch
import Foundation
import Synchronization

/// Runs a handler on every SIGINT or SIGTERM (their default actions are turned off).
final class ShutdownSignals: @unchecked Sendable {
    // @unchecked: `sources` is set once in init and only kept alive, never touched again.
    private let sources: [any DispatchSourceSignal]
    private static let alive = Mutex<[ShutdownSignals]>([])

    /// Installs `handler` for SIGINT and SIGTERM; it stays installed for the life of the process.
    @discardableResult
    static func install(_ handler: @escaping @Sendable (Int32) -> Void) -> ShutdownSignals {
        let signals = ShutdownSignals(handler)
        alive.withLock { $0.append(signals) }
        return signals
    }

    private init(_ handler: @escaping @Sendable (Int32) -> Void) {
        var made: [any DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { handler(number) }
            source.resume()
            made.append(source)
        }
        sources = made
    }

    /// Suspends until the first SIGINT or SIGTERM and returns its number.
    static func wait() async -> Int32 {
        await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            let once = Atomic<Bool>(false)
            install { number in
                if !once.exchange(true, ordering: .relaxed) { continuation.resume(returning: number) }
            }
        }
    }
}
