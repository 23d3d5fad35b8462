import Testing
import ZGridJobStore
import ZGridProtocol

@testable import ZGridBroker

/// Aggregation in the core: jobs sharing a batch key go to a batch-capable worker as one REQUEST
/// when enough are queued or the oldest has waited long enough, and each gets its own result.
@Suite("Batches of jobs for batch-capable functions")
struct BatchTests {
    /// A core with one batch-capable worker of `index` (batches of 3, held at most 50 ms).
    func setUp(concurrency: Int = 8) -> Driver {
        var driver = Driver(options: testOptions(grace: 60_000))
        var ignored: [BrokerAction] = []
        driver.core.recoverJobs([], maxID: 0, now: 0, into: &ignored)
        driver.message(
            worker1,
            .ready(
                concurrency: concurrency,
                functions: [ServiceDescriptor(name: "index", batch: BatchSpec(maxItems: 3, maxWaitMilliseconds: 50))]))
        return driver
    }

    /// Submits jobs and commits them; returns the actions of the commit.
    func submit(_ driver: inout Driver, _ count: Int, key: String? = "doc-7", from first: UInt64 = 1) -> [BrokerAction] {
        var tokens: [UInt64] = []
        for request in first..<(first + UInt64(count)) {
            let actions = driver.message(
                client1,
                .submit(
                    requestID: request, function: "index", spec: JobSpec(maxAttempts: 2), keys: JobKeys(batch: key), tags: [],
                    payload: Array("item \(request)".utf8)))
            tokens += actions.compactMap { if case .storeWrite(_, let token) = $0 { token } else { nil } }
        }
        return driver.send(.storeCommitted(tokens: tokens))
    }

    func batches(_ actions: [BrokerAction]) -> [(dispatchID: UInt64, items: [BatchItems.Item], payloads: [[UInt8]], header: CallHeader)] {
        actions.compactMap {
            guard case .requestBatch(_, let dispatchID, _, let header, let items, let payloads) = $0 else { return nil }
            return (dispatchID, items, payloads, header)
        }
    }

    @Test("full groups go at once as batches; the rest goes when its wait is over")
    func fullAndTimedBatches() throws {
        var driver = setUp()
        let sent = batches(submit(&driver, 7))
        #expect(sent.map(\.items.count) == [3, 3])
        #expect(sent.allSatisfy { $0.header.isBatch && $0.payloads.count == $0.items.count })
        #expect(sent[0].payloads == [Array("item 1".utf8), Array("item 2".utf8), Array("item 3".utf8)])
        #expect(sent[0].items.map(\.attempt) == [1, 1, 1])
        #expect(driver.core.inFlightCount(of: worker1) == 2, "one slot per batch")
        driver.now = 20
        #expect(batches(driver.send(.tick)).isEmpty, "the last job waits for company")
        #expect(driver.core.nextWakeup <= 50 + 0)
        driver.now = 50
        let late = batches(driver.send(.tick))
        #expect(late.map(\.items.count) == [1])
        #expect(late.first?.items.first?.job == 7)
    }

    @Test("each job of a batch gets its own result; a failed item is retried on its own terms")
    func perItemResults() throws {
        var driver = setUp()
        let batch = try #require(batches(submit(&driver, 3)).first)
        let actions = driver.message(
            worker1,
            .batchReply(dispatchID: batch.dispatchID, results: [.success([1]), .failure(.handlerError, "bad input"), .success([3])]))
        let finished = actions.compactMap { if case .storeFinal(let record, _, _) = $0 { record } else { nil } }
        #expect(finished.map(\.id) == [1, 3])
        #expect(finished.map(\.result) == [[1], [3]])
        #expect(finished.allSatisfy { $0.state == .succeeded })
        let retried = driver.published.filter { $0.kind == "retried" }
        #expect(retried.map(\.job) == [2])
        #expect(retried.first?.error?.contains("bad input") == true)
        #expect(driver.core.inFlightCount(of: worker1) == 0, "the batch's slot is free again")
    }

    @Test("a reply with the wrong number of results, or a failed batch, fails every job's attempt")
    func wholeBatchFailures() throws {
        var driver = setUp()
        let sent = batches(submit(&driver, 6))
        driver.message(worker1, .batchReply(dispatchID: sent[0].dispatchID, results: [.success([1])]))
        driver.workerError(worker1, sent[1].dispatchID, .handlerError)
        let retried = driver.published.filter { $0.kind == "retried" }.compactMap(\.job)
        #expect(retried.sorted() == [1, 2, 3, 4, 5, 6])
        #expect(driver.published.contains { $0.kind == "retried" && $0.error?.contains("1 results for 3 jobs") == true })
    }

    @Test("jobs without a batch key, or of a worker that takes no batches, run one by one")
    func unbatched() throws {
        var driver = setUp()
        let plain = submit(&driver, 2, key: nil)
        #expect(batches(plain).isEmpty)
        #expect(plain.count { if case .requestJob = $0 { true } else { false } } == 2)

        var other = Driver(options: testOptions(grace: 60_000))
        var ignored: [BrokerAction] = []
        other.core.recoverJobs([], maxID: 0, now: 0, into: &ignored)
        other.ready(worker2, ["index"], concurrency: 8)
        let single = submit(&other, 3)
        #expect(batches(single).isEmpty, "no worker declared batches")
        #expect(single.count { if case .requestJob = $0 { true } else { false } } == 3)
    }
}
