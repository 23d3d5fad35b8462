import ZGridJobStore
import ZGridProtocol

/// Backpressure from the job store to job dispatch. Every attempt started and finished hands the
/// store a write, and until it commits the core holds it (and a finished job's result, events and
/// answers); when the store commits slower than workers run jobs (a slow disk), those writes would
/// pile up in memory without end. So no attempt starts while ``BrokerOptions/maxStoreWritesWaiting``
/// writes wait: queued jobs stay queued (durable, as before) and dispatch resumes as commits land.
/// Nothing is acknowledged earlier or dropped: only the start of attempts waits.
extension BrokerCore {
    /// A write of `writes` for the store, counted in ``storeWritesWaiting`` until its commit or failure.
    mutating func storeWrite(_ writes: [StoreWrite], token: UInt64) -> BrokerAction {
        storeWritesWaiting += 1
        return .storeWrite(writes, token: token)
    }

    /// The write of a job's final `record` (with its `result`), counted as ``storeWrite(_:token:)``.
    mutating func storeFinal(_ record: JobRecord, result: PayloadHandle?, token: UInt64) -> BrokerAction {
        storeWritesWaiting += 1
        return .storeFinal(record, result: result, token: token)
    }

    /// Whether so many writes wait for the store that no job attempt may start now.
    var storeBacklogged: Bool { storeWritesWaiting >= options.maxStoreWritesWaiting }

    /// The store committed or failed the writes with `tokens` (the event hub's among them, which
    /// the core does not count).
    mutating func storeWritesSettled(_ tokens: [UInt64]) {
        var settled = 0
        for token in tokens where !EventHub.owns(token) { settled += 1 }
        storeWritesWaiting = max(0, storeWritesWaiting - settled)
    }
}
