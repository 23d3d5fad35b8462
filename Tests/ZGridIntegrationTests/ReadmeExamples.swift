// The README's Swift examples, as written there, with stubs for the names they take as given.
// This file imports only the two products a user depends on: it compiles only if their examples
// do (the types they name, such as JobQuery and PeerSecurity, come with the products).
import Foundation
import Testing
import ZGridClient
import ZGridWorker

private func resize(_ bytes: [UInt8]) async throws -> [UInt8] { bytes }
private let photo: [UInt8] = []
private let photos: [[UInt8]] = []
private let names: [String] = []
private let photoID = 7
private func save(_ bytes: [UInt8], as name: String) throws {}
private func log(_ text: String) {}
private struct Search { func index(_ docs: [[UInt8]]) async throws {} }
private let search = Search()
private let request: [UInt8] = []
private let doc: [UInt8] = []
private let csv: [UInt8] = []
private let input: [UInt8] = []
private let state: [UInt8] = []
private struct Sum: Codable, Sendable { let a: Int; let b: Int }

private func block0() async throws {
    let worker = Worker(broker: "tcp://127.0.0.1:5555", concurrency: 8)
    worker.register("resize") { request in
        try await resize(request.payload)  // [UInt8] in, [UInt8] out
    }
    worker.register("add", input: Sum.self) { $0.a + $0.b }  // Codable in and out (JSON on the wire)
    try await worker.run()  // until worker.stop(), SIGTERM in zgrid, or task cancel
    worker.stop(force: true)
}

private func block1() async throws {
    let client = try GridClient(broker: "tcp://127.0.0.1:5555")
    let thumbnail = try await client.call("resize", photo, timeout: .seconds(5))
    let sum: Int = try await client.call("add", Sum(a: 40, b: 2))
    do {
        _ = try await client.call("resize", photo, timeout: .milliseconds(200), idempotent: true)
    } catch GridError.timeout(let why) {
        _ = why
    }
    await client.close()
    _ = (thumbnail, sum)
}

private func block2() async throws {
    let worker = Worker(broker: "tcp://127.0.0.1:5555", concurrency: 4, stuckGraceMilliseconds: 5_000)
    do { try await worker.run() } catch WorkerError.allSlotsStuck { exit(3) }
}

private func block3(_ worker: Worker) {
    worker.registerBatch("index", maxItems: 32, maxWait: .milliseconds(100)) { items in  // [BatchItem]
        try await search.index(items.map(\.payload))  // one round trip for 32 jobs
        return items.map { item in
            item.payload.isEmpty ? .failure(HandlerFailure(.malformed, "empty document")) : .success([])
        }  // [BatchItemResult], one per item
    }
}

private func block4(_ client: GridClient) async throws {
    for try await outcome in try client.callEach("resize", photos, inFlight: 100, timeout: .seconds(5)) {
        switch outcome.result {
        case .success(let thumbnail): try save(thumbnail, as: names[outcome.index])
        case .failure(let error): log("photo \(outcome.index): \(error)")
        }
    }
    let sums: [Sum] = []
    for try await outcome in try client.callEach("add", sums, returning: Int.self) { _ = outcome }
    _ = try await client.callEach("resize", photos, inFlight: 200).inInputOrder()
    _ = try client.callEach("resize", count: 10) { index in photos[index] }
}

private func block5(_ client: GridClient) async throws {
    let result = try await client.scatter("search", Array("kalo mine".utf8), timeout: .seconds(2)).gathered()
    for (shard, reply) in result.replies { _ = (shard, reply) }
    for (shard, why) in result.failures { _ = (shard, why) }  // partial results say what is missing
    _ = try client.scatter("resize", inputs: [photo, photo])
}

private func block6(_ client: GridClient) async throws {
    let id = try await client.submit(
        "resize", photo,
        options: JobOptions(
            priority: 5, delay: .seconds(30), maxAttempts: 5, backoff: .seconds(2),
            timeLimit: .seconds(60), uniqueKey: "resize:\(photoID)", tags: ["photos"]))
    let status = try await client.status(job: id)  // queued, scheduled, running, succeeded, dead…
    let thumbnail = try await client.result(job: id, timeout: .seconds(30))
    try await client.cancel(job: id)  // queued: removed; running: handler cancelled
    let dead = try await client.jobs(JobQuery(states: ["dead"], function: "resize"))
    _ = (status, thumbnail, dead)
}

private func block7(_ client: GridClient, _ id: UInt64, _ worker: Worker) async throws {
    for try await event in try client.events(matching: .job(id)) {  // or .tag("photos"), .function("resize"),
        print(event.seq, event.kind, event.fraction ?? "")  // .poolEvents, .everything,
        if event.kind.isFinal { break }  // client.submittedByThisClient
    }
    _ = try client.events(matching: .tag("photos"))
    _ = try client.events(matching: .function("resize"))
    _ = try client.events(matching: .poolEvents)
    _ = try client.events(matching: .everything)
    _ = try client.events(matching: client.submittedByThisClient)
    _ = try client.events(matching: .everything, name: "dashboard")
    worker.register("p") { request in
        request.progress(0.4, "resized 4 of 10"); return []
    }
}

private func block8(_ client: GridClient) async throws {
    let page = try await client.call("render", request, priority: 9)  // interactive: first
    let id = try await client.submit("reindex", doc, options: JobOptions(priority: 1))
    _ = try await client.submit("export", csv, options: JobOptions(fairnessKey: "tenant-42"))
    do { _ = try await client.call("hash", input) } catch GridError.busy(_, let retryAfter) {
        _ = retryAfter /* back off for retryAfter */
    }
    _ = try await client.submit("thumbnails", photo, options: JobOptions(priority: 0, sheddable: true))
    _ = try await client.submit("digest", state, options: JobOptions(replaceKey: "user-7:digest"))
    _ = try await client.submit("index", doc, options: JobOptions(batchKey: "shard-3"))
    _ = (page, id)
    _ = try GridClient(broker: "x", busyRetries: 3)
    _ = try GridClient(broker: "x", name: "n")
    _ = client.executor
}

private func security() throws {
    let keys = try CurveKeyPair.generate()
    let security = PeerSecurity(serverKey: keys.publicKey, keys: keys)
    let context = try Context()
    _ = try GridClient(broker: "inproc://grid", heartbeat: HeartbeatSettings(), context: context, security: security)
    _ = Worker(broker: "inproc://grid", context: context, security: security)
    let filter: EventFilter = .job(1)
    let kind: GridEventKind = .succeeded
    let query = JobQuery(states: ["dead"], function: "resize")
    _ = (filter, kind, query, ErrorCode.malformed)
}

@Suite("The README's examples")
struct ReadmeExampleTests {
    @Test("compile with only the ZGridClient and ZGridWorker products imported, and the types they name work")
    func examplesCompile() throws {
        let keys = try CurveKeyPair.generate()
        #expect(PeerSecurity(serverKey: keys.publicKey, keys: keys).serverKey == keys.publicKey)
        #expect(JobQuery(states: ["dead"], function: "resize").function == "resize")
    }
}
