import Testing
import ZGridJobStore
import ZGridProtocol

@testable import ZGridBroker

/// JOB commands on a job whose JOB RETRY has not committed yet: they are held and answered after
/// the RETRY, in arrival order, as the job is once the retry's write has committed or failed.
@Suite("JOB commands behind a JOB RETRY awaiting its commit")
struct RetryPendingTests {
    /// How far the JOB RETRY has got when the next command arrives.
    enum Phase: CaseIterable, CustomStringConvertible {
        /// Its store read (of the cancelled job) is under way.
        case reading
        /// Its write (the job queued again) waits for the commit.
        case writing

        var description: String { self == .reading ? "while the RETRY's read is under way" : "while the RETRY's write awaits its commit" }
    }

    /// Job 1 cancelled and committed, and a JOB RETRY (client 1, request 3) of it as far as `phase`.
    func retrying(_ phase: Phase) -> JobHarness {
        var harness = JobHarness.cancelledJob()
        let actions = harness.job(client1, 3, .retry, 1)
        #expect(actions.jobReplies.isEmpty)
        if phase == .writing { #expect(harness.answerReads().jobReplies.isEmpty) }
        return harness
    }

    /// The RETRY's request, and the later command's.
    let retry = ClientRequest(client: client1, requestID: 3)
    let later = ClientRequest(client: client2, requestID: 4)

    @Test(
        "STATUS, a second RETRY and CANCEL are answered after the RETRY's commit, in arrival order, as the committed job is",
        arguments: Phase.allCases, [(JobVerb.status, "queued"), (.retry, "queued"), (.cancel, "cancelled")])
    func heldUntilCommit(_ phase: Phase, _ command: (verb: JobVerb, state: String)) throws {
        var harness = retrying(phase)
        var actions = harness.job(client2, 4, command.verb, 1)
        actions += harness.answerReads()
        #expect(actions.jobReplies.isEmpty, "nothing is answered before the RETRY's write commits")
        actions = harness.commit()
        // A CANCEL is answered once its own write, made after the RETRY's commit, commits too.
        if command.verb == .cancel { actions += harness.commit() }
        #expect(actions.jobReplies.map(\.request) == [retry, later])
        #expect(actions.jobReplies.map { $0.jobs.map(\.state) } == [["queued"], [command.state]])
        // Only the retry was written for the second RETRY: the store and a worker agree with the answers.
        harness.commit()
        #expect(harness.stored[1]?.state.rawValue == command.state)
        #expect(harness.ready(worker1).jobAttempts.map(\.job) == (command.verb == .cancel ? [] : [1]))
    }

    @Test(
        "STATUS, a second RETRY, CANCEL and WAIT are answered after the RETRY's ERROR when its write fails, as the store holds the job",
        arguments: Phase.allCases, JobVerb.allCases)
    func answeredAfterFailure(_ phase: Phase, _ verb: JobVerb) throws {
        var harness = retrying(phase)
        var actions = harness.job(client2, 4, verb, 1, wait: 60_000)
        actions += harness.answerReads()
        #expect(actions.jobReplies.isEmpty, "nothing is answered before the RETRY's write commits or fails")
        actions = harness.failWrites()
        #expect(actions.failures == [SentFailure(client: client1, requestID: 3, code: .internal)])
        #expect(actions.jobReplies.isEmpty)
        actions = harness.answerReads()
        if verb == .retry {
            // The second RETRY, handled after the failure, queues the cancelled job again itself.
            #expect(actions.jobReplies.isEmpty)
            actions = harness.commit()
            #expect(actions.jobReplies.map(\.request) == [later])
            #expect(actions.jobReplies.first?.jobs.map(\.state) == ["queued"])
        } else {
            #expect(actions.jobReplies.map(\.request) == [later])
            #expect(actions.jobReplies.first?.jobs.map(\.state) == ["cancelled"], "the job as the store holds it")
            #expect(harness.ready(worker1).jobAttempts.isEmpty)
        }
        #expect(harness.driver.core.jobWaiters.isEmpty)
        #expect(harness.driver.core.clients[client2]?.jobWaits.isEmpty == true)
    }

    @Test("a WAIT sent before the RETRY has committed waits for the retried job to finish", arguments: Phase.allCases)
    func waitFollowsTheRetriedJob(_ phase: Phase) throws {
        var harness = retrying(phase)
        var actions = harness.job(client2, 4, .wait, 1, wait: 60_000)
        actions += harness.answerReads()
        actions += harness.commit()
        #expect(actions.jobReplies.map(\.request) == [retry])
        actions = harness.ready(worker1)
        let finished = try #require(harness.runAttempts(actions.jobAttempts, on: worker1).finishedJobs.first)
        #expect(finished.record.state == .succeeded)
        #expect(finished.notify == [later])
    }

    @Test("a WAIT whose time passes before the RETRY's write commits is answered after the RETRY", arguments: Phase.allCases)
    func waitPassingIsHeld(_ phase: Phase) throws {
        var harness = retrying(phase)
        var actions = harness.job(client2, 4, .wait, 1, wait: 0)
        actions += harness.answerReads()
        actions += harness.tick(after: 1)
        actions += harness.answerReads()
        #expect(actions.jobReplies.isEmpty, "nothing is answered before the RETRY's write commits")
        actions = harness.commit()
        #expect(actions.jobReplies.map(\.request) == [retry, later])
        #expect(actions.jobReplies.map { $0.jobs.map(\.state) } == [["queued"], ["queued"]])
        #expect(harness.driver.core.jobWaiters.isEmpty)
    }

    @Test(
        "a WAIT held on a job whose RETRY's write fails follows the job a second RETRY, held behind the first, queues again",
        arguments: Phase.allCases)
    func waitFollowsTheReplayedRetry(_ phase: Phase) throws {
        var harness = retrying(phase)
        let second = ClientRequest(client: client2, requestID: 5)
        var actions = harness.job(client2, 4, .wait, 1, wait: 60_000)
        actions += harness.job(client2, 5, .retry, 1)
        actions += harness.answerReads()
        #expect(actions.jobReplies.isEmpty, "nothing is answered before the RETRY's write commits or fails")
        actions = harness.failWrites()
        #expect(actions.failures == [SentFailure(client: client1, requestID: 3, code: .internal)])
        actions += harness.answerReads()
        actions += harness.commit()
        #expect(actions.jobReplies.map(\.request) == [second], "the WAIT is not answered while the second RETRY queues the job")
        #expect(actions.jobReplies.first?.jobs.map(\.state) == ["queued"])
        actions = harness.ready(worker1)
        let finished = try #require(harness.runAttempts(actions.jobAttempts, on: worker1).finishedJobs.first)
        #expect(finished.record.state == .succeeded)
        #expect(finished.notify == [later], "the WAIT is answered when the job the second RETRY queued finishes")
    }

    @Test("a WAIT on a job whose SUBMIT fails to commit is answered at once, with no job")
    func waitOnFailedSubmit() throws {
        var harness = JobHarness(options: testOptions(grace: 60_000))
        harness.submit(client1, 1)
        var actions = harness.job(client2, 4, .wait, 1, wait: 60_000)
        #expect(actions.jobReplies.isEmpty)
        actions = harness.failWrites()
        #expect(actions.failures == [SentFailure(client: client1, requestID: 1, code: .internal)])
        actions += harness.answerReads()
        #expect(actions.jobReplies.map(\.request) == [later])
        #expect(actions.jobReplies.first?.jobs.isEmpty == true)
        #expect(harness.driver.core.jobWaiters.isEmpty)
    }
}
