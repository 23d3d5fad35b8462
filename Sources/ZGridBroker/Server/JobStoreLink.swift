import Foundation
import ZGridJobStore
import ZGridProtocol
import ZeroMQ

/// The broker loop's side of the job store: the store works on its own thread and its answers
/// come back through a mailbox whose wake-up the loop polls, so the loop never waits on disk.
final class JobStoreLink {
    let store: JobStore
    let events: Mailbox<StoreEvent>
    private var inbox: [StoreEvent] = []

    /// Opens the store at `path` and starts its thread.
    init(path: String) throws(BrokerError) {
        do {
            store = try JobStore(path: path)
            events = try Mailbox()
        } catch let error as JobStoreError {
            throw .setupFailed("job store: \(error)")
        } catch {
            throw .setupFailed("job store: \(error)")
        }
    }

    /// Starts the store's thread, delivering its events to the loop's mailbox.
    func start() {
        let events = self.events
        store.start { event in events.post(event) }
    }

    /// The store's events since the last call.
    func take() -> [StoreEvent] {
        inbox.removeAll(keepingCapacity: true)
        events.take(into: &inbox, signalled: true)
        return inbox
    }

    /// Wall-clock milliseconds since 1970.
    static func wallNow() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
