import Foundation
import Testing
import ZGridClient
import ZGridWorker

extension IntegrationTests {
    @Suite("A job store whose directory is removed while the broker runs", .serialized, .timeLimit(.minutes(1)))
    struct StoreFileGoneTests {
        @Test(
            "submits are refused with an error naming the store file, not acknowledged into the removed file; calls are still served"
        )
        func directoryRemoved() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let folder = directory.file("store")
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let store = folder + "/jobs.sqlite"
            let (broker, endpoint, log) = try await loggedStoreBroker(in: directory, store: store)
            defer { endProcess(broker) }
            let worker = Worker(broker: endpoint, concurrency: 2, heartbeat: testHeartbeat, logger: quietLogger("test.worker"))
            worker.register("echo") { $0.payload }
            let running = RunningWorker(worker: worker, task: Task { try await worker.run() })
            let client = try GridClient(broker: endpoint, heartbeat: testHeartbeat)
            _ = try await client.submit("absent", bytes("before"))
            try FileManager.default.removeItem(atPath: folder)
            for index in 0..<3 {
                let submitted = await outcome { () async throws(GridError) in try await client.submit("absent", bytes("after \(index)")) }
                guard case .failure(.internal(let message)) = submitted else {
                    Issue.record("a submit into a removed store was answered \(submitted)")
                    continue
                }
                #expect(message.contains("the job store file \(store) is gone"), "\(message)")
            }
            #expect(try await client.call("echo", bytes("still served"), timeout: .seconds(10)) == bytes("still served"))
            await client.close()
            await running.stop()
            guard try await timedExit(broker, "zgrid broker", after: SIGTERM, seconds: 15) != nil else { return }
            let text = readText(log) ?? ""
            #expect(text.contains("job store failed: the job store file \(store) is gone"), "\(text)")
        }
    }
}
