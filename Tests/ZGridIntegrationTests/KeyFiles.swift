import Foundation
import Testing

/// Writes `keys/<name>.key` in `directory` with `zgrid keygen` for each of `names`; returns their
/// public keys, in the same order.
func makeKeyFiles(_ names: [String], in directory: TemporaryDirectory) async throws -> [String] {
    var publicKeys: [String] = []
    for name in names {
        let run = try await runZGrid(["keygen", "--out", directory.file("keys/\(name).key")], in: directory, seconds: 10)
        try #require(run.status == 0, "\(run)")
        publicKeys.append(run.output.trimmingCharacters(in: .whitespacesAndNewlines))
    }
    return publicKeys
}

/// Writes `directory`/cluster.conf for a broker on a free port, without a job store, with CURVE on
/// and `security` as the rest of its `[security]` table (from line 9); returns its path.
func writeCurveConfig(in directory: TemporaryDirectory, security: String) throws -> String {
    let config = directory.file("cluster.conf")
    try """
    [broker]
    bind = ["tcp://127.0.0.1:\(try freePort())"]

    [jobs]
    store = ""

    [security]
    curve = true
    \(security)
    """.write(toFile: config, atomically: true, encoding: .utf8)
    return config
}
