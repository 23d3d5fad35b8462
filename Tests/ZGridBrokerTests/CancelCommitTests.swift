import Testing
import ZGridJobStore
import ZGridProtocol

@testable import ZGridBroker

/// JOB CANCEL is answered only once the cancel is on disk: a broker killed before the store
/// commits it leaves the job as the store had it, and then no client may have been told that the
/// job was cancelled.
@Suite("JOB CANCEL answered after its write commits")
struct CancelCommitTests {
    /// Where the job to cancel is.
    enum Place: CaseIterable, CustomStringConvertible {
        /// Queued in memory (no worker).
        case queued
        /// Running on a worker.
        case running
        /// Queued only on disk, past the memory bound.
        case onDisk

        var description: String {
            switch self {
            case .queued: "queued in memory"
            case .running: "running"
            case .onDisk: "queued on disk"
            }
        }
    }

    /// A core with its last job committed and in `place`, and a JOB WAIT (client 2, request 9)
    /// held on it; returns the core and that job's id.
    func lastJob(_ place: Place) -> (harness: JobHarness, id: Int64) {
        var options = testOptions(grace: 60_000)
        options.maxResidentJobs = 1
        var harness = JobHarness(options: options)
        if place == .running { harness.ready(worker1) }
        let count: UInt64 = place == .onDisk ? 2 : 1
        for request in 1...count {
            harness.submit(client1, request)
            harness.commit()
        }
        let id = Int64(count)
        #expect(harness.stored[id]?.state == (place == .running ? .running : .queued))
        #expect((harness.driver.core.jobs[id] == nil) == (place == .onDisk))
        harness.job(client2, 9, .wait, id, wait: 60_000)
        harness.answerReads()
        return (harness, id)
    }

    /// ``lastJob(_:)``, then a JOB CANCEL of the job (client 1, request 10), its read answered:
    /// the core, the job's id and what the core did.
    func cancelLastJob(_ place: Place) -> (harness: JobHarness, id: Int64, actions: [BrokerAction]) {
        var (harness, id) = lastJob(place)
        var actions = harness.job(client1, 10, .cancel, id)
        actions += harness.answerReads()
        return (harness, id, actions)
    }

    let cancel = ClientRequest(client: client1, requestID: 10)
    let wait = ClientRequest(client: client2, requestID: 9)

    @Test(
        "the CANCEL and the WAITs on the job are answered, and its event published, only once the cancel has committed",
        arguments: Place.allCases)
    func answeredAfterCommit(_ place: Place) throws {
        var (harness, id, actions) = cancelLastJob(place)
        #expect(harness.stored[id]?.state == .cancelled, "the cancel is handed to the store")
        #expect(actions.jobReplies.isEmpty, "nothing is answered before the cancel's write commits")
        #expect(!harness.driver.published.contains { $0.job == id && $0.kind == "cancelled" })
        #expect(harness.driver.core.awaitsCommits, "a stop waits for the answer")
        if place == .running {
            #expect(actions.contains { if case .cancel(worker1, _) = $0 { true } else { false } }, "the attempt is cancelled at once")
        }
        actions = harness.commit()
        #expect(actions.jobReplies.map(\.request) == [cancel, wait])
        #expect(actions.jobReplies.allSatisfy { $0.jobs.map(\.state) == ["cancelled"] })
        #expect(harness.driver.published.filter { $0.job == id }.last?.kind == "cancelled")
        #expect(!harness.driver.core.awaitsCommits)
        let attempts = harness.ready(worker2).jobAttempts
        let ran = harness.runAttempts(attempts, on: worker2)
        #expect(!(attempts + ran.jobAttempts).contains { $0.job == id }, "the cancelled job never runs")
    }

    @Test("when the cancel's write fails, the CANCEL and the WAITs are answered INTERNAL, never 'cancelled'", arguments: Place.allCases)
    func failedWrite(_ place: Place) throws {
        var (harness, _, actions) = cancelLastJob(place)
        actions += harness.failWrites()
        #expect(actions.jobReplies.isEmpty)
        #expect(
            actions.failures == [
                SentFailure(client: client1, requestID: 10, code: .internal), SentFailure(client: client2, requestID: 9, code: .internal),
            ])
        #expect(!harness.driver.core.awaitsCommits)
        #expect(harness.commit().jobReplies.isEmpty, "a later commit answers nothing more")
    }
}
