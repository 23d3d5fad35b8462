import Foundation
import Testing

extension IntegrationTests {
    @Suite("zgrid broker refusing schedules it could not fire", .serialized, .timeLimit(.minutes(1)))
    struct ScheduleStoreArgumentTests {
        @Test("zgrid broker --job-store \"\" with [[schedule]] tables in its configuration exits 64 instead of never firing them")
        func schedulesWithoutStoreRefused() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let config = directory.file("cluster.conf")
            try """
            [broker]
            bind = ["tcp://127.0.0.1:\(try freePort())"]

            [[schedule]]
            name = "every-minute"
            cron = "* * * * *"
            function = "echo"
            """.write(toFile: config, atomically: true, encoding: .utf8)
            let (status, errors) = try await refusedRun(["broker", "--config", config, "--job-store", ""], in: directory)
            #expect(status == 64, "exit status \(status.map(String.init) ?? "none"): \(errors)")
            #expect(errors.contains("[[schedule]] \"every-minute\" submits stored jobs"), "\(errors)")
        }
    }
}
