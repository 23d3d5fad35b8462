import Testing
import ZGridJobStore

@Suite("Filters and counts")
struct FilterTests {
    /// Ten jobs: ids 1...10, even ids of "even" and odd ids of "odd"; states cycle through all states;
    /// tags: "all" on every job, "three" on multiples of 3, "th" on job 1 (a prefix, never a match for "three").
    static let jobs: [JobRecord] = (1...10).map { id in
        var tags = ["all"]
        if id % 3 == 0 { tags.append("three") }
        if id == 1 { tags = ["th", "x%_"] }
        return makeJob(
            Int64(id), function: id % 2 == 0 ? "even" : "odd",
            state: JobState.allCases[id % JobState.allCases.count], tags: tags)
    }

    /// Runs `filter` over `jobs` and returns the ids.
    private func ids(_ filter: JobFilter, store: JobStore, recorder: EventRecorder, token: UInt64) throws -> [Int64] {
        try ZGridJobStoreTests.jobs(of: answer(.jobs(filter), store: store, recorder: recorder, token: token)).map(\.id)
    }

    @Test("state, function, tag and paging filters, alone and combined")
    func filters() throws {
        try withTemporaryDirectory { directory throws in
            try withStartedStore(at: directory.file("jobs.sqlite")) { store, recorder throws in
                store.write(Self.jobs.map { .upsert($0) }, token: 1)
                recorder.waitForCommits([1])
                #expect(try ids(JobFilter(), store: store, recorder: recorder, token: 2) == Array(1...10))
                #expect(try ids(JobFilter(states: [.queued]), store: store, recorder: recorder, token: 3) == [8])
                #expect(try ids(JobFilter(states: JobState.unfinished), store: store, recorder: recorder, token: 4) == [1, 2, 7, 8, 9, 10])
                #expect(try ids(JobFilter(states: []), store: store, recorder: recorder, token: 5) == [])
                #expect(try ids(JobFilter(function: "even"), store: store, recorder: recorder, token: 6) == [2, 4, 6, 8, 10])
                #expect(try ids(JobFilter(tag: "three"), store: store, recorder: recorder, token: 7) == [3, 6, 9])
                #expect(try ids(JobFilter(tag: "th"), store: store, recorder: recorder, token: 8) == [1])
                #expect(try ids(JobFilter(tag: "x%_"), store: store, recorder: recorder, token: 9) == [1])
                #expect(try ids(JobFilter(tag: "%"), store: store, recorder: recorder, token: 10) == [])
                #expect(try ids(JobFilter(tag: "ALL"), store: store, recorder: recorder, token: 11) == [])
                #expect(try ids(JobFilter(function: "even", tag: "three"), store: store, recorder: recorder, token: 12) == [6])
                #expect(
                    try ids(JobFilter(states: JobState.terminal, function: "odd"), store: store, recorder: recorder, token: 13)
                        == [3, 5])
                #expect(try ids(JobFilter(limit: 0), store: store, recorder: recorder, token: 14) == [])
                #expect(try ids(JobFilter(function: "none"), store: store, recorder: recorder, token: 15) == [])
            }
        }
    }

    @Test("paging with limit and afterID walks every job once, in id order")
    func paging() throws {
        try withTemporaryDirectory { directory throws in
            try withStartedStore(at: directory.file("jobs.sqlite")) { store, recorder throws in
                store.write(Self.jobs.map { .upsert($0) }, token: 1)
                recorder.waitForCommits([1])
                var pages: [[Int64]] = []
                var afterID: Int64?
                var token: UInt64 = 100
                while true {
                    token += 1
                    let page = try ids(JobFilter(tag: "all", limit: 3, afterID: afterID), store: store, recorder: recorder, token: token)
                    if page.isEmpty { break }
                    pages.append(page)
                    afterID = page.last
                }
                #expect(pages == [[2, 3, 4], [5, 6, 7], [8, 9, 10]])
            }
        }
    }

    @Test("counts has every state")
    func counts() throws {
        try withTemporaryDirectory { directory throws in
            try withStartedStore(at: directory.file("jobs.sqlite")) { store, recorder throws in
                #expect(
                    try answer(.counts, store: store, recorder: recorder, token: 1)
                        == .counts(
                            Dictionary(uniqueKeysWithValues: JobState.allCases.map { ($0, 0) })))
                store.write(Self.jobs.map { .upsert($0) }, token: 2)
                let expected: [JobState: Int] = [
                    .queued: 1, .scheduled: 2, .running: 2, .succeeded: 1, .failed: 1, .dead: 1, .cancelled: 1, .deferred: 1,
                ]
                #expect(try answer(.counts, store: store, recorder: recorder, token: 3) == .counts(expected))
            }
        }
    }
}
