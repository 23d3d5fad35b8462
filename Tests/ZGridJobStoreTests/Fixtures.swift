import Testing
import ZGridJobStore

/// A job with the defaults of a fresh submission and a 16-byte payload.
func makeJob(
    _ id: Int64, function: String = "echo", state: JobState = .queued, tags: [String] = [], finishedAt: Int64? = nil
) -> JobRecord {
    JobRecord(
        id: id, function: function, payload: Array(repeating: UInt8(truncatingIfNeeded: id), count: 16), state: state,
        tags: tags, createdAt: 1_700_000_000_000 + id, finishedAt: finishedAt
    )
}

/// Opens a store, starts it with a new recorder, runs `body`, and closes it.
func withStartedStore(at path: String, _ body: (JobStore, EventRecorder) throws -> Void) throws {
    let store = try JobStore(path: path)
    let recorder = EventRecorder()
    store.start(events: recorder.callback)
    defer { store.close() }
    try body(store, recorder)
}

/// Answers `query` through a started store and returns the result (failing the test when there is none).
func answer(_ query: StoreRead, store: JobStore, recorder: EventRecorder, token: UInt64) throws -> StoreReadResult {
    store.read(query, token: token)
    let result = try #require(recorder.waitForRead(token))
    return try result.get()
}

/// The jobs of a `.jobs` answer; fails the test for any other answer.
func jobs(of result: StoreReadResult) throws -> [JobRecord] {
    guard case .jobs(let jobs) = result else {
        throw FixtureError.unexpected("\(result)")
    }
    return jobs
}

/// A test fixture got an answer it did not expect.
enum FixtureError: Error {
    /// The unexpected answer.
    case unexpected(String)
}
