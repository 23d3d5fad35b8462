import Foundation
import Testing

extension IntegrationTests {
    @Suite("zgrid worker refusing a shard set", .serialized, .timeLimit(.minutes(1)))
    struct ShardsArgumentTests {
        @Test(
            "zgrid worker --shards says what is wrong with the set, such as a total past the cap of 4096",
            arguments: [
                ("0-4096/4097", "the total must be from 1 to 4096"),
                ("0-16/16", "index 16 is not below the total 16"),
            ])
        func badShardsExplained(shards: String, reason: String) async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let (status, errors) = try await refusedRun(
                ["worker", "--connect", "tcp://127.0.0.1:\(try freePort())", "--function", "echo", "--shards", shards], in: directory)
            #expect(status == 64, "exit status \(status.map(String.init) ?? "none"): \(errors)")
            #expect(errors.contains("bad --shards '\(shards)': \(reason); expected indices out of a total of at most 4096"), "\(errors)")
        }

        @Test("zgrid worker refuses --shards for functions that are not sharded, which would ignore them, as a pool's shards")
        func shardsForUnshardedFunctionsRefused() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let (status, errors) = try await refusedRun(
                [
                    "worker", "--connect", "tcp://127.0.0.1:\(try freePort())", "--function", "hash", "--function", "sleep", "--shards",
                    "0-3/16",
                ],
                in: directory)
            #expect(status == 64, "exit status \(status.map(String.init) ?? "none"): \(errors)")
            #expect(
                errors.contains(
                    "--shards is only for a worker serving a sharded function (search or echo), got --function hash, sleep, which would ignore it"
                ),
                "\(errors)")
        }
    }
}
