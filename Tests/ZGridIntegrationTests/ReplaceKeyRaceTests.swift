import Foundation
import Testing
import ZGridClient
import ZGridProtocol

extension IntegrationTests {
    @Suite("Replace keys with overlapping submits", .serialized, .timeLimit(.minutes(2)))
    struct ReplaceKeyRaceTests {
        @Test("zgrid submit --from with one replace key on every line, pipelined, leaves only the last line's job queued")
        func bulkSubmitSupersedes() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let broker = try startBroker(jobStore: directory.file("jobs.sqlite"))
            defer { broker.stop() }
            let config = directory.file("cluster.conf")
            try "[broker]\nlog_level = \"error\"\n".write(toFile: config, atomically: true, encoding: .utf8)
            let lines = (0..<20).map { #"{"function": "echo", "payload": "v\#($0)", "replace_key": "digest:user-7"}"# }
            let file = directory.file("jobs.jsonl")
            try (lines.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
            let process = try launchZGrid(["submit", "--config", config, "--connect", broker.endpoints[0], "--from", file])
            defer { endProcess(process) }
            #expect(try await waitForExit(process, seconds: 30), "zgrid submit still runs 30 s after it started")
            #expect(process.terminationStatus == 0)
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let jobs = try await client.jobs()
            #expect(jobs.count == 20)
            let queued = jobs.filter { $0.state == "queued" }
            #expect(queued.map(\.id) == [jobs.map(\.id).max() ?? 0], "only the latest job holds the key")
            #expect(jobs.filter { $0.state == "cancelled" }.count == 19)
            await client.close()
        }

        @Test("two clients submitting one replace key at once leave one job queued: the one submitted last")
        func concurrentClientsSupersede() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let broker = try startBroker(jobStore: directory.file("jobs.sqlite"))
            defer { broker.stop() }
            let clients = try (0..<2).map { _ in try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat) }
            for round in 0..<5 {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for client in clients {
                        for index in 0..<10 {
                            group.addTask {
                                _ = try await client.submit("echo", bytes("\(index)"), options: JobOptions(replaceKey: "k\(round)"))
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            let jobs = try await clients[0].jobs()
            #expect(jobs.count == 100)
            for round in 0..<5 {
                // Ids are given in arrival order: the highest id of a round is its last submit.
                let ids = jobs.map(\.id).sorted()[(round * 20)..<(round * 20 + 20)]
                let queued = jobs.filter { $0.state == "queued" && ids.contains($0.id) }.map(\.id)
                #expect(queued == [ids.last!], "round \(round)")
            }
            for client in clients { await client.close() }
        }
    }
}
