import Foundation
import Synchronization
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZGridWorker
import ZeroMQ

extension IntegrationTests {
    @Suite("Durable background jobs over real sockets and a real SQLite file", .serialized, .timeLimit(.minutes(3)))
    struct JobTests {
        /// Records which jobs a handler ran, and how often.
        final class RunLog: Sendable {
            private let runs = Mutex<[UInt64: [Int]]>([:])
            func record(_ job: UInt64?, attempt: Int) { runs.withLock { $0[job ?? 0, default: []].append(attempt) } }
            var snapshot: [UInt64: [Int]] { runs.withLock { $0 } }
        }

        /// Records when a handler first ran for each key.
        final class FirstRuns: Sendable {
            private let times = Mutex<[String: ContinuousClock.Instant]>([:])
            func record(_ key: String) { times.withLock { if $0[key] == nil { $0[key] = .now } } }
            subscript(_ key: String) -> ContinuousClock.Instant? { times.withLock { $0[key] } }
        }

        @Test("a submitted job runs on a worker, with its id and attempt, and its result can be awaited")
        func submitAndResult() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let broker = try startBroker(jobStore: directory.file("jobs.sqlite"))
            defer { broker.stop() }
            let log = RunLog()
            let worker = try await startWorker(broker) { worker in
                worker.register("resize") { request in
                    log.record(request.job, attempt: request.attempt)
                    return bytes("resized \(String(decoding: request.payload, as: UTF8.self))")
                }
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let id = try await client.submit("resize", bytes("cat.jpg"), options: JobOptions(tags: ["photos", "user-7"]))
            #expect(try await client.result(job: id, timeout: .seconds(5)) == bytes("resized cat.jpg"))
            let status = try await client.status(job: id)
            #expect(status.state == "succeeded")
            #expect(status.attempts == 1)
            #expect(status.tags == ["photos", "user-7", client.originTag])
            #expect(log.snapshot == [id: [1]])
            let listed = try await client.jobs(JobQuery(states: ["succeeded"], tag: "photos"))
            #expect(listed.map(\.id) == [id])
            await client.close()
            await worker.stop()
        }

        @Test("a broker without a job store answers SUBMIT, JOB and JOBS at once with ERROR INTERNAL")
        func withoutStore() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let refusal = GridError.internal("this broker has no job store: set [jobs] store in cluster.conf")
            let commands: [@Sendable () async throws -> Void] = [
                { _ = try await client.submit("resize") },
                { _ = try await client.status(job: 1) },
                { _ = try await client.result(job: 1, timeout: .seconds(5)) },
                { _ = try await client.cancel(job: 1) },
                { _ = try await client.retry(job: 1) },
                { _ = try await client.jobs() },
                { _ = try await client.purge() },
            ]
            let started = ContinuousClock.now
            await withTaskGroup(of: Void.self) { group in
                for command in commands { group.addTask { await #expect(throws: refusal) { try await command() } } }
            }
            // Answered by the broker, not by the client's time limit of 30 s.
            #expect(ContinuousClock.now - started < .seconds(5))
            await client.close()
        }

        @Test("a failing job is retried with backoff and dead-lettered after its last attempt")
        func retryThenDead() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let broker = try startBroker(jobStore: directory.file("jobs.sqlite"))
            defer { broker.stop() }
            let log = RunLog()
            let worker = try await startWorker(broker) { worker in
                worker.register("flaky") { request in
                    log.record(request.job, attempt: request.attempt)
                    if String(decoding: request.payload, as: UTF8.self) == "recovers", request.attempt >= 2 { return bytes("ok") }
                    throw HandlerFailure(.handlerError, "boom on attempt \(request.attempt)")
                }
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let options = JobOptions(maxAttempts: 3, backoff: .milliseconds(20))
            let doomed = try await client.submit("flaky", bytes("never"), options: options)
            let recovering = try await client.submit("flaky", bytes("recovers"), options: options)
            do {
                _ = try await client.result(job: doomed, timeout: .seconds(5))
                Issue.record("a dead job returned a result")
            } catch {
                #expect(error == .jobFailed(id: doomed, state: "dead", lastError: "handler error: boom on attempt 3"))
            }
            #expect(try await client.result(job: recovering, timeout: .seconds(5)) == bytes("ok"))
            #expect(log.snapshot[doomed] == [1, 2, 3])
            #expect(log.snapshot[recovering] == [1, 2])
            #expect(try await client.jobs(JobQuery(states: ["dead"])).map(\.id) == [doomed])
            // JOB RETRY queues the dead job again (answered once the store has it); it runs its
            // attempts anew and dies again.
            let retried = try await client.retry(job: doomed)
            #expect(retried.state == "queued")
            #expect(retried.attempts == 0)
            await #expect(throws: GridError.jobFailed(id: doomed, state: "dead", lastError: "handler error: boom on attempt 3")) {
                _ = try await client.result(job: doomed, timeout: .seconds(5))
            }
            #expect(log.snapshot[doomed] == [1, 2, 3, 1, 2, 3])
            await client.close()
            await worker.stop()
        }

        @Test("a delayed job waits for its time, cancelling removes a queued job, and a unique key coalesces submits")
        func delayCancelUnique() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let broker = try startBroker(jobStore: directory.file("jobs.sqlite"))
            defer { broker.stop() }
            let log = RunLog()
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let queued = try await client.submit("work", bytes("x"))
            let cancelled = try await client.cancel(job: queued)
            #expect(cancelled.state == "cancelled")
            let first = try await client.submit("work", bytes("a"), options: JobOptions(uniqueKey: "report-2026-11"))
            let second = try await client.submit("work", bytes("b"), options: JobOptions(uniqueKey: "report-2026-11"))
            #expect(first == second)
            let started = Date()
            let delayed = try await client.submit("work", bytes("later"), options: JobOptions(delay: .milliseconds(400)))
            #expect(try await client.status(job: delayed).state == "scheduled")
            let worker = try await startWorker(broker) { worker in
                worker.register("work") { request in
                    log.record(request.job, attempt: request.attempt)
                    return request.payload
                }
            }
            #expect(try await client.result(job: delayed, timeout: .seconds(5)) == bytes("later"))
            #expect(Date().timeIntervalSince(started) >= 0.38)
            #expect(try await client.result(job: first, timeout: .seconds(5)) == bytes("a"))
            #expect(log.snapshot[queued] == nil)
            #expect(log.snapshot.count == 2)
            await client.close()
            await worker.stop()
        }

        @Test("with a 10 s heartbeat interval, a due schedule slot and a delayed job start within seconds, not at a heartbeat")
        func slotsAndDelaysDoNotWaitForHeartbeats() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let slow = HeartbeatSettings(intervalMilliseconds: 10_000, liveness: 3)
            // A schedule with no fired slot on record fires the last minute's slot: due at start.
            let minutely = RecurringJob(name: "minutely", cron: try CronExpression(parsing: "* * * * *"), function: "stamp")
            let started = ContinuousClock.now
            let broker = try startBroker(jobStore: directory.file("jobs.sqlite"), heartbeat: slow, schedules: [minutely])
            defer { broker.stop() }
            let firstRun = FirstRuns()
            let worker = try await startWorker(broker, heartbeat: slow) { worker in
                worker.register("stamp") { request in
                    let key = request.payload.isEmpty ? "schedule" : String(decoding: request.payload, as: UTF8.self)
                    firstRun.record(key)
                    return []
                }
            }
            // Before, the slot fired at the broker's first heartbeat tick, 10 s after the start.
            try await waitUntil("the schedule's job ran", seconds: 20) { firstRun["schedule"] != nil }
            let slotRan = try #require(firstRun["schedule"]) - started
            #expect(slotRan < .seconds(3), "the slot's job ran \(slotRan) after the start")
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: slow)
            let submitted = ContinuousClock.now
            _ = try await client.submit("stamp", bytes("delayed"), options: JobOptions(delay: .seconds(1)))
            try await waitUntil("the delayed job ran", seconds: 20) { firstRun["delayed"] != nil }
            let delayRan = try #require(firstRun["delayed"]) - submitted
            #expect(delayRan >= .milliseconds(900), "not before its run-at")
            #expect(delayRan < .seconds(4), "the delayed job ran \(delayRan) after its submit")
            await client.close()
            await worker.stop()
        }

        @Test("cancelling a running job cancels its handler")
        func cancelRunning() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let broker = try startBroker(jobStore: directory.file("jobs.sqlite"))
            defer { broker.stop() }
            let started = Counter()
            let cancelled = Counter()
            let worker = try await startWorker(broker) { worker in
                worker.register("long") { _ in
                    started.increment()
                    do { try await Task.sleep(for: .seconds(30)) } catch { cancelled.increment(); throw error }
                    return []
                }
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let id = try await client.submit("long")
            try await waitUntil("job started") { started.count == 1 }
            #expect(try await client.cancel(job: id).state == "cancelled")
            try await waitUntil("handler cancelled") { cancelled.count == 1 }
            #expect(try await client.status(job: id).state == "cancelled")
            await client.close()
            await worker.stop()
        }

        @Test("a backlog larger than memory waits on disk, is read back in pages, and every job runs once")
        func backlogSpillsToDisk() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let broker = try startBroker(jobStore: directory.file("jobs.sqlite"), maxResidentJobs: 100)
            defer { broker.stop() }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            var ids: [UInt64] = []
            try await withThrowingTaskGroup(of: [UInt64].self) { group in
                for task in 0..<8 {
                    group.addTask {
                        var mine: [UInt64] = []
                        for index in 0..<125 { mine.append(try await client.submit("tally", bytes("\(task)-\(index)"))) }
                        return mine
                    }
                }
                for try await batch in group { ids += batch }
            }
            let cancelled = ids[900]
            #expect(try await client.cancel(job: cancelled).state == "cancelled")
            try await waitUntil("backlog on disk") { (broker.status.jobs["queued_on_disk"] ?? 0) >= 800 }
            // At most 100 committed jobs stay in memory. The status counts jobs once a second, so this
            // count may date from the submits, when each of the 8 tasks could also have one submit
            // waiting for its commit (held in memory until then): 108 at most, however slow the run.
            #expect((broker.status.jobs["queued"] ?? 0) <= 100 + 8)
            let log = RunLog()
            let worker = try await startWorker(broker, concurrency: 8) { worker in
                worker.register("tally") { request in
                    log.record(request.job, attempt: request.attempt)
                    return []
                }
            }
            try await waitUntil("backlog drained", seconds: 60) { log.snapshot.count == 999 }
            try await Task.sleep(for: .milliseconds(300))
            let runs = log.snapshot
            #expect(runs.count == 999)
            #expect(runs[cancelled] == nil, "a job cancelled on disk must not run")
            #expect(runs.values.allSatisfy { $0 == [1] }, "every job ran exactly once")
            #expect(try await client.status(job: ids[0]).state == "succeeded")
            await client.close()
            await worker.stop()
        }

        @Test("waiting for the result of a job queued on disk waits until it has run")
        func resultOfJobOnDisk() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let broker = try startBroker(jobStore: directory.file("jobs.sqlite"), maxResidentJobs: 100)
            defer { broker.stop() }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            var ids: [UInt64] = []
            // Each submit commits before the next: beyond the first 100, the jobs wait on disk.
            for index in 0..<105 { ids.append(try await client.submit("echo", bytes("\(index)"))) }
            let answered = Counter()
            let waiting = Task {
                defer { answered.increment() }
                return try await client.result(job: ids[104], timeout: .seconds(20))
            }
            try await Task.sleep(for: .milliseconds(300))
            #expect(answered.count == 0, "the WAIT is held while its job waits on disk")
            let worker = try await startWorker(broker) { worker in worker.register("echo") { $0.payload } }
            #expect(try await waiting.value == bytes("104"))
            await client.close()
            await worker.stop()
        }

        @Test("jobs survive a broker restart, and a job whose worker died runs again elsewhere")
        func restartAndWorkerLoss() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let store = directory.file("jobs.sqlite")
            var broker = try startBroker(jobStore: store)
            let endpoint = broker.endpoints[0]
            var client = try GridClient(broker: endpoint, heartbeat: testHeartbeat)
            var ids: [UInt64] = []
            for index in 0..<20 { ids.append(try await client.submit("count", bytes("\(index)"))) }
            await client.close()
            broker.stop()
            broker = try startBroker(endpoint: endpoint, jobStore: store)
            defer { broker.stop() }
            try await waitUntil("jobs recovered") { broker.status.jobs["queued"] == 20 }
            let log = RunLog()
            let worker = try await startWorker(broker) { worker in
                worker.register("count") { request in
                    log.record(request.job, attempt: request.attempt)
                    return request.payload
                }
            }
            client = try GridClient(broker: endpoint, heartbeat: testHeartbeat)
            for (index, id) in ids.enumerated() {
                #expect(try await client.result(job: id, timeout: .seconds(5)) == bytes("\(index)"))
            }
            #expect(log.snapshot.count == 20)
            #expect(log.snapshot.values.allSatisfy { $0 == [1] })
            await worker.stop()
            // A worker process killed mid-job: the job goes back to the queue with the attempt counted.
            let process = try launchZGrid(["worker", "--connect", endpoint, "--function", "sleep", "--log-level", "error"])
            defer { endProcess(process) }
            try await waitUntil("worker process registered") { broker.status.workers == 1 }
            let slow = try await client.submit("sleep", bytes("10000"), options: JobOptions(backoff: .milliseconds(10)))
            try await waitUntil("job running") { broker.status.jobs["running"] == 1 }
            kill(process.processIdentifier, SIGKILL)
            let rescuer = try await startWorker(broker) {
                $0.register("sleep") { request in bytes("rescued on attempt \(request.attempt)") }
            }
            #expect(try await client.result(job: slow, timeout: .seconds(10)) == bytes("rescued on attempt 2"))
            await client.close()
            await rescuer.stop()
        }

        @Test("a graceful broker stop lets a running job attempt finish but starts no other; it runs after the restart")
        func stopStartsNoAttempt() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            var broker = try startBroker(jobStore: directory.file("jobs.sqlite"))
            let endpoint = broker.endpoints[0]
            let log = RunLog()
            let worker = try await startWorker(broker, concurrency: 1) { worker in
                worker.register("slow") { request in
                    log.record(request.job, attempt: request.attempt)
                    try await Task.sleep(for: .milliseconds(300))
                    return bytes("done")
                }
            }
            let client = try GridClient(broker: endpoint, heartbeat: testHeartbeat)
            let first = try await client.submit("slow", bytes("1"))
            let second = try await client.submit("slow", bytes("2"))
            try await waitUntil("the first attempt runs") { log.snapshot[first] != nil }
            // The stop waits for the running attempt (300 ms, within the 1000 ms grace), and the
            // worker's credit that comes back with it starts nothing.
            broker.stop()
            #expect(log.snapshot[second] == nil, "no attempt started during the stop")
            broker = try startBroker(endpoint: endpoint, jobStore: directory.file("jobs.sqlite"))
            defer { broker.stop() }
            #expect(try await client.result(job: second, timeout: .seconds(10)) == bytes("done"))
            #expect(log.snapshot[first] == [1], "the first job finished before the stop ended")
            #expect(log.snapshot[second] == [1])
            await client.close()
            await worker.stop()
        }
    }
}
