import Foundation
import Testing
import ZGridClient

extension IntegrationTests {
    @Suite(
        "a broker whose job store cannot grow", .serialized, .timeLimit(.minutes(1)),
        .disabled(
            if: underThreadSanitizer,
            "ThreadSanitizer's runtime dies of SIGBUS at start in a process with a file size limit (ulimit -f), which this test sets"
        ))
    struct StoreFailureTests {
        @Test(
            "a job store that cannot grow fails only the submits it could not store, keeps the stored jobs, and is logged as a store failure, not as a message dropped from no peer"
        )
        func storeThatCannotGrow() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            // The broker's files may not grow past 256 KiB (bash counts KiB), with SIGXFSZ ignored:
            // a commit past that fails (EFBIG), as on a full disk.
            let limiter = directory.file("limit.sh")
            try "#!/bin/bash\ntrap '' XFSZ\nulimit -f 256\nexec \"$@\"\n".write(toFile: limiter, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: limiter)
            let config = directory.file("cluster.conf")
            try "".write(toFile: config, atomically: true, encoding: .utf8)
            let log = directory.file("broker.log")
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            let endpoint = "tcp://127.0.0.1:\(try freePort())"
            let broker = try launchZGrid(
                ["broker", "--config", config, "--bind", endpoint, "--job-store", directory.file("jobs.sqlite")],
                standardError: FileHandle(forWritingAtPath: log), through: limiter)
            defer { endProcess(broker) }
            try await waitUntil("the broker opened its job store", seconds: 15) { (readText(log) ?? "").contains("job store open") }
            let client = try GridClient(broker: endpoint)
            let stored = try await client.submit("absent", bytes("small"))
            let tooLarge = await outcome { () async throws(GridError) in
                try await client.submit("absent", [UInt8](repeating: 120, count: 300_000))
            }
            guard case .failure(.internal(let message)) = tooLarge else {
                Issue.record("expected the store's failure, got \(tooLarge)")
                return
            }
            #expect(message.contains("the job store failed"), "\(message)")
            let after = try await client.submit("absent", bytes("small again"))
            #expect(try await client.status(job: stored).state == "queued")
            #expect(try await client.status(job: after).state == "queued")
            await client.close()
            guard try await timedExit(broker, "zgrid broker", after: SIGTERM, seconds: 15) != nil else { return }
            let text = readText(log) ?? ""
            #expect(text.contains("job store failed"), "\(text)")
            #expect(!text.contains("dropped message from"), "\(text)")
        }
    }
}
