import Foundation
import Testing
import ZGridClient

extension IntegrationTests {
    @Suite("zgrid bench jobs against a real broker and job store", .serialized, .timeLimit(.minutes(2)))
    struct BenchJobsCommandTests {
        @Test("zgrid bench jobs waits for its own jobs only: another client's job scheduled for later does not hold it")
        func waitsForItsOwnJobs() async throws {
            let grid = try await JobsCommandLineTests.Grid.start()
            // Another client's job, due in an hour.
            let later = try await grid.client.submit("echo", bytes("later"), options: JobOptions(delay: .seconds(3600)))
            let run = try await grid.zgrid("bench", "jobs", "--count", "50", "--in-flight", "8")
            #expect(run.status == 0, "\(run)")
            #expect(run.output.contains("all 50 jobs finished"), "\(run)")
            #expect(try await grid.client.status(job: later).state == "scheduled", "the other client's job is left alone")
            await grid.stop()
        }
    }
}
