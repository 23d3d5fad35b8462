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
    /// Whether opening the store created its file: a broker that then fails to start removes it.
    private let createdFile: Bool

    /// Opens the store at `path` (see ``start()`` for its thread). When that fails after
    /// creating the file, the file is removed again.
    init(path: String) throws(BrokerError) {
        createdFile = !FileManager.default.fileExists(atPath: path)
        do {
            store = try JobStore(path: path)
            events = try Mailbox()
        } catch let error as JobStoreError {
            Self.remove(path, if: createdFile)
            throw .setupFailed("job store: \(error)")
        } catch {
            Self.remove(path, if: createdFile)
            throw .setupFailed("job store: \(error)")
        }
    }

    /// Closes the store of a broker that failed to start, and removes its files when opening it
    /// created them: a store that existed before is left as it was.
    func discard() {
        store.close()
        Self.remove(store.path, if: createdFile)
    }

    /// Removes the SQLite file at `path`, with its `-wal` and `-shm` files, when `created`.
    private static func remove(_ path: String, if created: Bool) {
        guard created else { return }
        for file in [path, path + "-wal", path + "-shm"] { try? FileManager.default.removeItem(atPath: file) }
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
