import Testing
import ZGridJobStore
import ZGridProtocol

@testable import ZGridBroker

/// A job that succeeds, fails or dies is reported finished (its JOB WAITs answered, its final
/// event published) only once its final record is on disk: a broker killed before the store
/// commits it runs the job again after a restart, and no client may have been told it finished.
@Suite("Final job states answered after their write commits")
struct FinalStateCommitTests {
    /// How the job's only attempt ends.
    enum Outcome: CaseIterable, CustomStringConvertible {
        /// Its worker replies.
        case succeeds
        /// Its worker fails it, with no attempt left.
        case dies
        /// It succeeds as an item of a batch.
        case succeedsInBatch

        var description: String {
            switch self {
            case .succeeds: "succeeds"
            case .dies: "dies"
            case .succeedsInBatch: "succeeds in a batch"
            }
        }

        /// The job's final state.
        var state: JobState { self == .dies ? .dead : .succeeded }
    }

    let wait = ClientRequest(client: client2, requestID: 9)

    /// Job 1 (one attempt) runs on worker 1 with a JOB WAIT (client 2, request 9) held on it, and
    /// its attempt ends as `outcome` says: the harness and what the core did.
    func finish(_ outcome: Outcome) throws -> (harness: JobHarness, actions: [BrokerAction]) {
        var harness = JobHarness(options: testOptions(grace: 60_000))
        if outcome == .succeedsInBatch {
            harness.message(
                worker1,
                .ready(concurrency: 4, functions: [ServiceDescriptor(name: "f", batch: BatchSpec(maxItems: 2, maxWaitMilliseconds: 0))]))
        } else {
            harness.ready(worker1)
        }
        harness.message(
            client1,
            .submit(
                requestID: 1, function: "f", spec: JobSpec(maxAttempts: 1), keys: JobKeys(batch: outcome == .succeedsInBatch ? "b" : nil),
                tags: [], payload: [1]))
        var started = harness.commit()
        started += harness.tick(after: 1)
        harness.job(client2, 9, .wait, 1, wait: 60_000)
        #expect(harness.stored[1]?.state == .running)
        let actions: [BrokerAction]
        switch outcome {
        case .succeeds:
            let attempt = try #require(started.jobAttempts.first)
            actions = harness.message(worker1, .reply(dispatchID: attempt.dispatchID, payload: harness.driver.payload()))
        case .dies:
            let attempt = try #require(started.jobAttempts.first)
            actions = harness.message(worker1, .failure(dispatchID: attempt.dispatchID, code: .handlerError, message: "boom"))
        case .succeedsInBatch:
            let batch = try #require(
                started.compactMap { if case .requestBatch(_, let dispatchID, _, _, _, _) = $0 { dispatchID } else { nil } }.first)
            actions = harness.message(worker1, .batchReply(dispatchID: batch, results: [.success([7])]))
        }
        return (harness, actions)
    }

    @Test(
        "the WAITs on the job are answered, and its final event published, only once its final record has committed",
        arguments: Outcome.allCases)
    func answeredAfterCommit(_ outcome: Outcome) throws {
        var (harness, actions) = try finish(outcome)
        #expect(harness.stored[1]?.state == outcome.state, "the final record is handed to the store")
        #expect(actions.finishedJobs.isEmpty, "no final event before the commit")
        #expect(actions.jobReplies.isEmpty, "no WAIT answered before the commit")
        #expect(harness.driver.core.awaitsCommits, "a stop waits for the answers")
        actions = harness.commit()
        #expect(actions.finishedJobs.map(\.record.state) == [outcome.state])
        #expect(actions.finishedJobs.map(\.notify) == [[wait]])
        #expect(!harness.driver.core.awaitsCommits)
    }

    @Test("when the final write fails, the WAITs are answered INTERNAL, never with a final state", arguments: Outcome.allCases)
    func failedWrite(_ outcome: Outcome) throws {
        var (harness, actions) = try finish(outcome)
        actions += harness.failWrites()
        #expect(actions.jobReplies.isEmpty)
        #expect(actions.failures == [SentFailure(client: client2, requestID: 9, code: .internal)])
        #expect(actions.finishedJobs.map(\.notify) == [[]], "the event still goes out, answering no one")
        #expect(!harness.driver.core.awaitsCommits)
        #expect(harness.commit().finishedJobs.isEmpty, "a later commit answers nothing more")
    }

    @Test("a superseded job found at start is published cancelled only once its rewrite has committed")
    func supersededAtRecovery() throws {
        var harness = JobHarness(options: testOptions(grace: 60_000))
        let wall = harness.driver.core.wallNow
        let records = (1...2).map { id in
            var record = JobRecord(id: Int64(id), function: "f", payload: [], createdAt: wall)
            record.replaceKey = "k"
            return record
        }
        var actions: [BrokerAction] = []
        harness.driver.core.recoverJobs(records, maxID: 2, now: harness.driver.now, into: &actions)
        #expect(!actions.contains { if case .publish(let event) = $0 { event.kind == "cancelled" } else { false } })
        let token = try #require(actions.compactMap { if case .storeWrite(_, let token) = $0 { token } else { nil } }.first)
        actions = harness.send(.storeCommitted(tokens: [token]))
        #expect(harness.driver.published.map(\.kind) == ["cancelled"])
        #expect(harness.driver.published.map(\.job) == [1])
    }
}
