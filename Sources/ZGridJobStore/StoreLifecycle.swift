/// Where a `JobStore` is in its life, and whom it reports to.
struct StoreLifecycle: Sendable {
    /// The phases, in order.
    enum Phase: Sendable {
        /// Opened; `start(events:)` not called yet (calls are queued).
        case opened
        /// The store's thread is running.
        case running
        /// `close()` was called.
        case closed
    }

    /// The current phase.
    var phase = Phase.opened
    /// The callback given to `start(events:)`.
    var events: (@Sendable (StoreEvent) -> Void)?
}
