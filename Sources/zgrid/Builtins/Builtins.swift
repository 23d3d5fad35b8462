import Foundation
import ZGridConfig
import ZGridProtocol
import ZGridWorker

/// The functions `zgrid worker` can serve, for demos and benchmarks.
enum Builtins {
    /// Every built-in function name.
    static let names = ["echo", "sleep", "hash", "search", "noop"]
    /// The built-ins that `--shards` makes sharded (see ``register(_:on:shards:seed:execution:)``).
    static let sharded = ["search", "echo"]
    /// The built-ins whose data `--seed` generates: `search`, over its corpus.
    static let seeded = ["search"]

    /// Registers the named built-ins on `worker`. With `shards`, `search` and `echo` are sharded
    /// (`search` holds those shards of the corpus made from `seed`, `echo` answers for them, for
    /// measuring fan-out); otherwise `search` holds the whole corpus.
    /// `execution` overrides where handlers run; by default `echo` and `noop` (which finish in
    /// microseconds) run inline on the worker's I/O thread, `sleep` (which only suspends) runs
    /// there as a task, and the CPU-bound `hash` and `search` run concurrently.
    static func register(_ names: [String], on worker: Worker, shards: ShardSet?, seed: UInt64, execution: HandlerExecution? = nil) {
        let spec = shards.map { ShardSpec(sortedIndices: $0.indices, total: $0.total) }
        for name in names {
            switch name {
            case "echo":
                if let execution {
                    worker.register("echo", shards: spec, execution: execution) { request in request.payload }
                } else {
                    worker.registerInline("echo", shards: spec) { request in request.payload }
                }
            case "noop":
                if let execution {
                    worker.register("noop", execution: execution) { _ in [] }
                } else {
                    worker.registerInline("noop") { _ in [] }
                }
            case "sleep":
                worker.register("sleep", execution: execution ?? .ioThread) { request in
                    let text = String(decoding: request.payload, as: UTF8.self)
                    guard let milliseconds = Int(text.trimmingCharacters(in: .whitespaces)), milliseconds >= 0 else {
                        throw HandlerFailure(.malformed, "sleep expects a number of milliseconds, got '\(text)'")
                    }
                    try await Task.sleep(for: .milliseconds(milliseconds))
                    return Array("slept \(milliseconds) ms".utf8)
                }
            case "hash":
                worker.register("hash", execution: execution ?? .concurrent) { request in
                    let text = String(decoding: request.payload, as: UTF8.self)
                    guard let rounds = Int(text.trimmingCharacters(in: .whitespaces)), rounds >= 0, rounds <= 100_000_000 else {
                        throw HandlerFailure(.malformed, "hash expects a number of rounds from 0 to 100000000, got '\(text)'")
                    }
                    return Array(String(HashRounds.run(rounds: rounds), radix: 16).utf8)
                }
            case "search":
                let held = shards ?? (try? ShardSet(indices: [0], total: 1))!
                let index = SearchIndex(shards: held, seed: seed)
                worker.register("search", shards: spec, execution: execution ?? .concurrent) { request in
                    let query = String(decoding: request.payload, as: UTF8.self)
                    return Array(index.search(query, shard: request.shard).json.utf8)
                }
            default:
                continue
            }
        }
    }
}

/// A CPU-bound function: mixes a 64-bit state for a number of rounds (SplitMix64 steps).
enum HashRounds {
    /// The state after `rounds` rounds from a fixed start.
    static func run(rounds: Int) -> UInt64 {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<rounds {
            state = SplitMix64.mix(state &+ 0x9E37_79B9_7F4A_7C15)
        }
        return state
    }
}

/// The SplitMix64 generator: deterministic for a seed, fast, good enough for generated data and
/// for fuzzing that must repeat exactly for a seed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    /// SplitMix64's output function.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The next value.
    mutating func next() -> UInt64 {
        state = state &+ 0x9E37_79B9_7F4A_7C15
        return Self.mix(state)
    }
}
