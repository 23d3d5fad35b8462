import Testing
import ZGridJobStore

@Suite("Round trip")
struct RoundTripTests {
    @Test("every field of a record comes back unchanged")
    func everyField() throws {
        let full = JobRecord(
            id: 42, function: "resize.image", payload: [0, 1, 2, 255, 0], state: .running, priority: 9, attempts: 2,
            maxAttempts: 7, backoffMilliseconds: 2500, timeLimitMilliseconds: 60_000, resultTTLMilliseconds: 86_400_000,
            uniqueKey: "img-42", tags: ["alpha", "beta gamma", "ünï"], runAt: 1_700_000_100_000,
            createdAt: 1_700_000_000_000, updatedAt: 1_700_000_200_000, startedAt: 1_700_000_150_000,
            finishedAt: 1_700_000_300_000, worker: "worker-1@host", lastError: "boom: 'quoted', \"double\"",
            result: [9, 8, 7]
        )
        let minimal = JobRecord(id: 43, function: "noop", payload: [], createdAt: 5)
        var emptyResult = makeJob(44, state: .succeeded)
        emptyResult.result = []
        emptyResult.tags = ["only"]
        let extremes = JobRecord(
            id: Int64.max, function: "f", payload: [UInt8](repeating: 0xAB, count: 100_000), priority: 0,
            backoffMilliseconds: Int64.max, timeLimitMilliseconds: Int64.min, runAt: -1, createdAt: 0
        )

        try withTemporaryDirectory { directory throws in
            try withStartedStore(at: directory.file("jobs.sqlite")) { store, recorder throws in
                let records = [full, minimal, emptyResult, extremes]
                store.write(records.map { .upsert($0) }, token: 1)
                recorder.waitForCommits([1])
                for (offset, record) in records.enumerated() {
                    let result = try answer(.job(record.id), store: store, recorder: recorder, token: 100 + UInt64(offset))
                    #expect(try jobs(of: result) == [record])
                }
                #expect(minimal.runAt == 5 && minimal.updatedAt == 5 && minimal.state == .queued)
                #expect(try jobs(of: answer(.job(999), store: store, recorder: recorder, token: 200)).isEmpty)
            }
        }
    }

    @Test("terminal states", arguments: JobState.allCases)
    func terminalStates(state: JobState) {
        #expect(state.isTerminal == [.succeeded, .failed, .dead, .cancelled].contains(state))
        #expect(JobState.terminal.contains(state) == state.isTerminal)
        #expect(JobState.unfinished.contains(state) == !state.isTerminal)
    }
}
