import Foundation
import Synchronization
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZGridWorker
import ZeroMQ

extension IntegrationTests {
    @Suite("Crash safety of the job store", .serialized, .timeLimit(.minutes(3)))
    struct CrashTests {
        /// Counts executions of each job id.
        final class Executions: Sendable {
            private let runs = Mutex<[UInt64: Int]>([:])
            func record(_ job: UInt64?) { runs.withLock { $0[job ?? 0, default: 0] += 1 } }
            var snapshot: [UInt64: Int] { runs.withLock { $0 } }
        }

        /// The ids acknowledged so far.
        final class Acknowledged: Sendable {
            private let ids = Mutex<[UInt64]>([])
            func add(_ id: UInt64) { ids.withLock { $0.append(id) } }
            var snapshot: [UInt64] { ids.withLock { $0 } }
        }

        @Test("SIGKILL of the broker mid-stream of submits loses no acknowledged job and reruns only in-flight ones")
        func brokerKilledDuringSubmits() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let (endpoint, arguments) = try storeBrokerCommand(in: directory)
            var broker = try launchZGrid(arguments)
            defer { endProcess(broker) }
            let executions = Executions()
            let worker = Worker(broker: endpoint, concurrency: 4, heartbeat: testHeartbeat, logger: quietLogger("test.worker"))
            worker.register("record") { request in
                executions.record(request.job)
                try await Task.sleep(for: .milliseconds(2))
                return request.payload
            }
            let workerTask = Task { try await worker.run() }
            let acknowledged = Acknowledged()
            let client = try GridClient(broker: endpoint, heartbeat: testHeartbeat)
            // A stream of submits from 8 tasks; the broker is killed while they run.
            let submitting = Task {
                await withTaskGroup(of: Void.self) { group in
                    for task in 0..<8 {
                        group.addTask {
                            for index in 0..<10_000 {
                                guard
                                    let id = try? await client.submit(
                                        "record", bytes("\(task)-\(index)"), options: JobOptions(backoff: .milliseconds(10)))
                                else { return }
                                acknowledged.add(id)
                            }
                        }
                    }
                }
            }
            try await waitUntil("some jobs acknowledged", seconds: 20) { acknowledged.snapshot.count >= 300 }
            kill(broker.processIdentifier, SIGKILL)
            broker.waitUntilExit()
            _ = await submitting.result
            let acked = Set(acknowledged.snapshot)
            #expect(acked.count >= 300)
            await client.close()
            // Taken just before the restart, not at the kill: REQUESTs the broker sent before it died
            // can still start on the worker after it (they were in flight), and only such jobs may
            // run twice. A job the old broker never dispatched cannot run before the new one starts.
            let dispatchedBeforeCrash = Set(executions.snapshot.keys)
            broker = try launchZGrid(arguments)
            let checker = try GridClient(broker: endpoint, heartbeat: testHeartbeat)
            for id in acked.sorted() {
                let status = try await checker.status(job: id)
                if status.state != "succeeded" {
                    _ = try await checker.result(job: id, timeout: .seconds(30))
                }
            }
            let runs = executions.snapshot
            for id in acked {
                #expect((runs[id] ?? 0) >= 1, "acknowledged job \(id) never ran")
                if (runs[id] ?? 0) > 1 {
                    #expect(dispatchedBeforeCrash.contains(id), "job \(id), not dispatched before the crash, ran \(runs[id]!) times")
                }
            }
            await checker.close()
            worker.stop()
            _ = await workerTask.result
            kill(broker.processIdentifier, SIGTERM)
            broker.waitUntilExit()
        }
    }
}
