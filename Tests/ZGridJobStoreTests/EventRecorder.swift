import Foundation
import Testing
import ZGridJobStore

/// Collects the events of a store, for tests that wait for them.
final class EventRecorder: @unchecked Sendable {
    /// Guards `events` and wakes waiters.
    private let condition = NSCondition()
    /// Every event so far, in order.
    private var events: [StoreEvent] = []

    /// The callback to pass to `JobStore.start(events:)`.
    var callback: @Sendable (StoreEvent) -> Void {
        { [self] event in record(event) }
    }

    /// Appends `event` and wakes waiters.
    func record(_ event: StoreEvent) {
        condition.lock()
        events.append(event)
        condition.broadcast()
        condition.unlock()
    }

    /// The events so far.
    var snapshot: [StoreEvent] {
        condition.lock()
        defer { condition.unlock() }
        return events
    }

    /// Waits up to `timeout` seconds until `done` holds for the events, which it returns (failing the test on timeout).
    @discardableResult
    func wait(
        timeout: TimeInterval = 30, sourceLocation: SourceLocation = #_sourceLocation, until done: ([StoreEvent]) -> Bool
    ) -> [StoreEvent] {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        defer { condition.unlock() }
        while !done(events) {
            if !condition.wait(until: deadline) {
                Issue.record("timed out waiting for store events; got \(events)", sourceLocation: sourceLocation)
                break
            }
        }
        return events
    }

    /// Waits until every token in `tokens` was committed; returns the events.
    @discardableResult
    func waitForCommits(_ tokens: some Sequence<UInt64>, sourceLocation: SourceLocation = #_sourceLocation) -> [StoreEvent] {
        let wanted = Set(tokens)
        return wait(sourceLocation: sourceLocation) { wanted.isSubset(of: Self.committedTokens(in: $0)) }
    }

    /// Waits for the answer to the read with `token`.
    func waitForRead(_ token: UInt64, sourceLocation: SourceLocation = #_sourceLocation) -> Result<StoreReadResult, JobStoreError>? {
        let events = wait(sourceLocation: sourceLocation) { Self.answer(to: token, in: $0) != nil }
        return Self.answer(to: token, in: events)
    }

    /// The tokens of every `.committed` in `events`.
    static func committedTokens(in events: [StoreEvent]) -> Set<UInt64> {
        var tokens = Set<UInt64>()
        for case .committed(let committed, _) in events {
            tokens.formUnion(committed)
        }
        return tokens
    }

    /// The answer to the read with `token` in `events`, if any.
    static func answer(to token: UInt64, in events: [StoreEvent]) -> Result<StoreReadResult, JobStoreError>? {
        for case .read(let readToken, let result) in events where readToken == token {
            return result
        }
        return nil
    }
}
