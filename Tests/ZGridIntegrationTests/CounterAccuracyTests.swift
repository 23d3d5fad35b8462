import Foundation
import Synchronization
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZGridWorker

extension IntegrationTests {
    @Suite("Counters equal what happened", .serialized, .timeLimit(.minutes(2)))
    struct CounterAccuracyTests {
        /// A handler's failure.
        struct Boom: Error {}

        /// The value of the sample `name` (with its labels, if any) in Prometheus text; nil when absent.
        func sample(_ name: String, in text: String) -> Int? {
            for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
                return Double(line.dropFirst(name.count + 1)).map { Int($0) }
            }
            return nil
        }

        /// Waits until the broker, asked now (not its published snapshot), runs a call of `function`
        /// and has `queued` of them queued.
        func waitForRunning(_ function: String, _ client: GridClient, queued: Int = 0) async throws {
            for _ in 0..<1000 {
                let load = try await client.brokerStatus().functions.first { $0.name == function }
                if load?.inFlight == 1 && load?.queuedCalls == queued { return }
                try await Task.sleep(for: .milliseconds(10))
            }
            throw TestTimeout(what: "a call of \(function) running")
        }

        @Test("after a scripted workload every counter in the status report and on the metrics endpoint equals what happened")
        func scriptedWorkload() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let port = try freePort()
            let options = BrokerOptions(
                heartbeat: testHeartbeat, unknownFunctionGraceMilliseconds: 100, functions: ["slow": FunctionPolicy(maxQueued: 1)])
            let broker = try BrokerServer.start(
                BrokerConfiguration(
                    endpoints: ["tcp://127.0.0.1:0"], options: options, jobStorePath: directory.file("jobs.sqlite"),
                    metricsEndpoint: "tcp://127.0.0.1:\(port)"),
                logger: quietLogger("test.broker"))
            defer { broker.stop() }
            let gate = Mutex(false)
            let holding = Mutex(false)
            let worker = try await startWorker(broker, concurrency: 8) { worker in
                worker.register("echo") { $0.payload }
                worker.register("boom") { _ in throw Boom() }
                worker.register("nap") { _ in
                    try await Task.sleep(for: .seconds(5))
                    return []
                }
                worker.register("hold") { _ in
                    holding.withLock { $0 = true }
                    try await Task.sleep(for: .seconds(30))
                    return []
                }
            }
            let slowWorker = try await startWorker(broker, concurrency: 1) { worker in
                worker.register("slow") { _ in
                    while !gate.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
                    return bytes("ok")
                }
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat, busyRetries: 0)

            // Calls: 5 succeed, 2 handler errors, 1 timeout, 1 unknown function.
            for index in 0..<5 { _ = try await client.call("echo", bytes("\(index)")) }
            for _ in 0..<2 { _ = await outcome { () async throws(GridError) in try await client.call("boom") } }
            let timedOut = await outcome { () async throws(GridError) in try await client.call("nap", timeout: .milliseconds(200)) }
            guard case .failure(.timeout) = timedOut else { throw TestTimeout(what: "a timeout, not \(timedOut)") }
            try await Task.sleep(for: .milliseconds(150))  // past the grace for functions no worker serves
            let unknown = await outcome { () async throws(GridError) in try await client.call("nope") }
            guard case .failure(.unknownFunction) = unknown else { throw TestTimeout(what: "unknownFunction, not \(unknown)") }

            // Admission: one runs, one queues, the third is refused BUSY; then the two succeed.
            let running = (0..<2).map { _ in Task { try await client.call("slow", timeout: .seconds(20)) } }
            try await waitForRunning("slow", client, queued: 1)
            let refused = await outcome { () async throws(GridError) in try await client.call("slow") }
            guard case .failure(.busy) = refused else { throw TestTimeout(what: "BUSY, not \(refused)") }
            gate.withLock { $0 = true }
            for task in running { #expect(try await task.value == bytes("ok")) }

            // A running call cancelled by its client.
            let held = Task { try await client.call("hold", timeout: .seconds(20)) }
            try await waitUntil("held call running") { holding.withLock { $0 } }
            held.cancel()
            _ = await held.result
            try await waitUntil("the cancel reached the broker") { broker.status.statistics.callsCancelled == 1 }

            // A worker killed while it runs a call: the call fails, the worker is lost.
            let process = try launchZGrid(["worker", "--connect", broker.endpoints[0], "--function", "sleep"])
            defer { endProcess(process) }
            try await waitUntil("worker process registered", seconds: 30) { broker.status.workers == 3 }
            let lost = Task { await outcome { () async throws(GridError) in try await client.call("sleep", bytes("60000")) } }
            try await waitForRunning("sleep", client)
            try await Task.sleep(for: .milliseconds(100))  // lets the worker read its REQUEST
            kill(process.processIdentifier, SIGKILL)
            guard case .failure(.workerLost) = await lost.value else { throw TestTimeout(what: "workerLost") }

            // Jobs: one succeeds; one fails twice (retried, then dead); one times out (dead); one is
            // cancelled while queued; one is superseded, and the job that superseded it cancelled.
            let succeeded = try await client.submit("echo", bytes("job"))
            let failing = try await client.submit("boom", options: JobOptions(maxAttempts: 2, backoff: .milliseconds(10)))
            let slowJob = try await client.submit("nap", options: JobOptions(maxAttempts: 1, timeLimit: .milliseconds(200)))
            let parked = try await client.submit("parked")
            let superseded = try await client.submit("parked", options: JobOptions(replaceKey: "digest"))
            let superseding = try await client.submit("parked", options: JobOptions(replaceKey: "digest"))
            #expect(try await client.result(job: succeeded) == bytes("job"))
            for id in [failing, slowJob] {
                let result = await outcome { () async throws(GridError) in try await client.result(job: id) }
                guard case .failure(.jobFailed) = result else { throw TestTimeout(what: "job \(id) dead, not \(result)") }
            }
            for id in [parked, superseding] { #expect(try await client.cancel(job: id).state == "cancelled") }
            #expect(try await client.status(job: superseded).state == "cancelled")

            let expected: [String: Int] = [
                "calls_received": 14, "calls_succeeded": 7, "calls_failed": 6, "calls_cancelled": 1, "calls_retried": 0,
                "scatters_received": 0, "scatters_failed": 0, "parts_succeeded": 0, "parts_failed": 0,
                "jobs_accepted": 6, "jobs_succeeded": 1, "jobs_retried": 1, "jobs_dead": 2, "jobs_cancelled": 3,
                "jobs_superseded": 1, "jobs_deferred": 0, "jobs_swept": 0, "batches_dispatched": 0, "admission_refusals": 1,
                "malformed_messages": 0, "protocol_violations": 0, "unknown_worker_messages": 0,
                "workers_joined": 3, "workers_lost": 1, "workers_refused": 0,
            ]
            try await Task.sleep(for: .milliseconds(300))  // any late answer of the cancelled or timed-out calls
            let counters = try await client.brokerStatus().counters
            // The job gauges are brought up to date about once a second.
            var text = ""
            for _ in 0..<30 {
                text = try await httpGet("http://127.0.0.1:\(port)/metrics")
                if sample("zgrid_jobs{state=\"queued\"}", in: text) == 0 && sample("zgrid_jobs{state=\"running\"}", in: text) == 0 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            for (name, value) in expected.sorted(by: { $0.key < $1.key }) {
                #expect(counters[name] == value, "status \(name)")
                #expect(sample("zgrid_\(name)_total", in: text) == value, "metric zgrid_\(name)_total")
            }
            for (name, value) in counters.sorted(by: { $0.key < $1.key }) where name != "subscriptions_open" {
                #expect(sample("zgrid_\(name)_total", in: text) == value, "every status counter is on the metrics endpoint: \(name)")
            }
            let calls: [String: Int] = [
                "zgrid_calls_total{function=\"echo\",outcome=\"ok\"}": 5, "zgrid_calls_total{function=\"boom\",outcome=\"error\"}": 2,
                "zgrid_calls_total{function=\"nap\",outcome=\"error\"}": 1,
                "zgrid_calls_total{function=\"(other)\",outcome=\"error\"}": 1,
                "zgrid_calls_total{function=\"slow\",outcome=\"ok\"}": 2, "zgrid_calls_total{function=\"slow\",outcome=\"error\"}": 1,
                "zgrid_calls_total{function=\"sleep\",outcome=\"error\"}": 1,
            ]
            for (name, value) in calls.sorted(by: { $0.key < $1.key }) { #expect(sample(name, in: text) == value, "metric \(name)") }
            for state in ["queued", "scheduled", "running", "deferred"] {
                #expect(sample("zgrid_jobs{state=\"\(state)\"}", in: text) == 0, "jobs \(state)")
            }
            #expect(sample("zgrid_calls_in_flight", in: text) == 0)
            #expect(sample("zgrid_subscriptions_open", in: text) == counters["subscriptions_open"])
            await client.close()
            await slowWorker.stop()
            await worker.stop()
        }

        @Test("queued jobs waiting only on disk count as queued on the metrics endpoint")
        func queuedOnDiskGauge() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let port = try freePort()
            let broker = try BrokerServer.start(
                BrokerConfiguration(
                    endpoints: ["tcp://127.0.0.1:0"], options: BrokerOptions(heartbeat: testHeartbeat, maxResidentJobs: 100),
                    jobStorePath: directory.file("jobs.sqlite"), metricsEndpoint: "tcp://127.0.0.1:\(port)"),
                logger: quietLogger("test.broker"))
            defer { broker.stop() }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            for index in 0..<150 { _ = try await client.submit("tally", bytes("\(index)")) }
            try await waitUntil("a backlog on disk") { (broker.status.jobs["queued_on_disk"] ?? 0) > 0 }
            // The job gauge is brought up to date about once a second.
            var queued: Int?
            for _ in 0..<50 {
                queued = sample("zgrid_jobs{state=\"queued\"}", in: try await httpGet("http://127.0.0.1:\(port)/metrics"))
                if queued == 150 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(queued == 150, "zgrid_jobs{state=\"queued\"} counts the jobs on disk too")
            await client.close()
        }
    }
}
