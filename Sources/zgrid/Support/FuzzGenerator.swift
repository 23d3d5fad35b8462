import ZGridProtocol

/// Which of the fuzzer's sockets sends a message. Each is its own DEALER, so the broker sees three
/// peers: one that acts as a client, one that registers as a worker, and one that never registers.
enum FuzzPersona: Int, CaseIterable, Sendable {
    case client, worker, stranger
}

/// One generated message: who sends it, its frames, and the family it was built from.
struct FuzzMessage: Sendable {
    let persona: FuzzPersona
    let frames: [[UInt8]]
    /// The kind of valid message it started from, such as `zgc.call` or `random` (for the tally).
    let family: String
    /// Whether it was mutated after being built from a valid message.
    let mutated: Bool
    /// Whether one frame is larger than the broker's frame limit (libzmq drops the connection).
    let oversized: Bool
}

/// What the fuzzer does next.
enum FuzzStep: Sendable {
    /// Send a message.
    case send(FuzzMessage)
    /// Close a persona's socket and open a new one (a new identity at the broker).
    case reconnect(FuzzPersona)
}

/// Makes a deterministic stream of valid, mutated and random ZGC01, ZGW01 and MDP messages for a
/// broker, from a seed.
///
/// The messages are built from every command of ZGP/1 and its job and admin extensions (and the
/// MDP/0.1 commands the broker also speaks), then often mutated: frames dropped, added, duplicated,
/// shuffled or corrupted, tags and command bytes swapped, ids of the wrong length, headers and specs
/// out of range, frames just within or above the frame size limit, more frames than the broker
/// accepts. A READY (ZGW01 or MDP) never names a function in `protected`, so the fuzzer never
/// registers for the functions real callers use; everything else is fair game, including forged
/// REPLYs with small dispatch ids that may name calls running on real workers.
struct FuzzGenerator {
    /// The largest frame the broker accepts (its `max_message_bytes`).
    let maxMessageBytes: Int
    /// Functions served by real workers: calls to them are sent, READYs for them never.
    let protected: Set<String>
    private let realFunction: String
    private var random: SplitMix64
    private var pending: [FuzzStep] = []
    private var count = 0

    /// Functions the fuzzer's worker persona serves.
    static let fuzzFunctions = ["fz0", "fz1", "fz2", "fz3", "fz4"]
    /// A sharded function the worker persona holds some shards of (total 8).
    static let shardedFunction = "fzs"
    /// A sharded function announced with the largest total, 4,096 shards (broadcasts are rare).
    static let hugeShardedFunction = "fzbig"
    /// Functions nobody serves.
    static let unknownFunctions = ["nobody", "ghost.1", "ghost_2"]

    private static let clientTag = ProtocolTag.client
    private static let workerTag = ProtocolTag.worker
    private static let mdpClient = Array("MDPC01".utf8)
    private static let mdpWorker = Array("MDPW01".utf8)

    /// Creates a generator. `protected` must hold every function real workers serve;
    /// `realFunction` is one of them, called now and then by the fuzzer too.
    init(seed: UInt64, maxMessageBytes: Int, protected: Set<String>, realFunction: String) {
        random = SplitMix64(seed: seed)
        self.maxMessageBytes = max(1024, maxMessageBytes)
        self.protected = protected
        self.realFunction = realFunction
        pending = [.send(FuzzMessage(persona: .worker, frames: validReady(), family: "zgw.ready", mutated: false, oversized: false))]
    }

    // MARK: Randomness

    private mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }
    private mutating func chance(_ probability: Double) -> Bool { Double.random(in: 0..<1, using: &random) < probability }
    private mutating func byte() -> UInt8 { UInt8.random(in: 0...255, using: &random) }
    private mutating func u64() -> UInt64 { random.next() }
    private mutating func pick<T>(_ items: [T]) -> T { items[int(0...(items.count - 1))] }

    private mutating func randomBytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var index = 0
        while index < count {
            var word = random.next()
            for _ in 0..<8 where index < count {
                bytes[index] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                index += 1
            }
        }
        return bytes
    }

    /// Picks one of `weights.count` choices with the given weights.
    private mutating func weighted(_ weights: [Int]) -> Int {
        var roll = int(0...(weights.reduce(0, +) - 1))
        for (index, weight) in weights.enumerated() {
            if roll < weight { return index }
            roll -= weight
        }
        return weights.count - 1
    }

    // MARK: Steps

    /// The next step: mostly a message, now and then a reconnect of one persona.
    mutating func next() -> FuzzStep {
        if !pending.isEmpty { return pending.removeFirst() }
        count += 1
        if count % 1500 == 0 {
            let persona = pick(FuzzPersona.allCases)
            if persona == .worker {
                pending.append(
                    .send(FuzzMessage(persona: .worker, frames: validReady(), family: "zgw.ready", mutated: false, oversized: false)))
            }
            return .reconnect(persona)
        }
        var (family, persona, frames) = base()
        var mutated = false
        if family != "random", chance(0.55) {
            mutated = true
            for _ in 0..<int(1...3) { mutate(&frames) }
        }
        var oversized = false
        let sizeRoll = int(0...9_999)
        if sizeRoll < 10 {  // 1 in 1000: a frame within the limit, up to its very size
            frames.insert(randomBytes(int((maxMessageBytes / 2)...maxMessageBytes)), at: int(0...frames.count))
            mutated = true
        } else if sizeRoll < 12 {  // 1 in 5000: one byte to a few KB over the limit
            frames.insert(randomBytes(maxMessageBytes + int(1...4096)), at: int(0...frames.count))
            mutated = true
            oversized = true
            persona = .stranger  // libzmq cuts the connection: never the client persona's, which paces the run
        }
        if frames.isEmpty { frames = [[]] }
        protect(&frames)
        return .send(FuzzMessage(persona: persona, frames: frames, family: family, mutated: mutated, oversized: oversized))
    }

    /// Rewrites any READY (ZGW01 or MDP) naming a protected function, so the fuzzer never takes
    /// real callers' calls.
    private func protect(_ frames: inout [[UInt8]]) {
        func isProtected(_ frame: [UInt8]) -> Bool {
            let text = String(decoding: frame, as: UTF8.self)
            let name = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
            return protected.contains(name) || protected.contains(name.filter { !$0.isWhitespace })
        }
        if frames.count >= 3, frames[0] == Self.workerTag, frames[1] == [WorkerCommand.ready.rawValue] {
            for index in 3..<frames.count where isProtected(frames[index]) { frames[index] = Array("fz0".utf8) }
        }
        if frames.count >= 4, frames[0].isEmpty, frames[1] == Self.mdpWorker, frames[2] == [0x01], isProtected(frames[3]) {
            frames[3] = Array("fz1".utf8)
        }
    }

    // MARK: Valid messages

    private mutating func base() -> (String, FuzzPersona, [[UInt8]]) {
        let clientSide: FuzzPersona = chance(0.8) ? .client : .stranger
        let workerSide: FuzzPersona = chance(0.7) ? .worker : .stranger
        switch weighted([12, 5, 4, 9, 4, 3, 2, 1, 5, 8, 5, 4, 1, 3, 4, 3, 2, 2, 3, 5, 4, 8]) {
        case 0: return ("zgc.call", clientSide, call())
        case 1: return ("zgc.cancel", clientSide, [Self.clientTag, [ClientCommand.cancel.rawValue], requestID()])
        case 2: return ("zgc.heartbeat", clientSide, [Self.clientTag, [ClientCommand.heartbeat.rawValue]] + extraFrames(0...2))
        case 3: return ("zgc.scatter", clientSide, scatter())
        case 4: return ("zgc.submit", clientSide, submit())
        case 5: return ("zgc.job", clientSide, job())
        case 6: return ("zgc.jobs", clientSide, jobs())
        case 7: return ("zgc.admin", clientSide, admin())
        case 8: return ("zgw.ready", workerSide, chance(0.7) ? validReady() : oddReady())
        case 9: return ("zgw.reply", workerSide, [Self.workerTag, [WorkerCommand.reply.rawValue], dispatchID()] + payloadFrames(0...2))
        case 10: return ("zgw.error", workerSide, workerError())
        case 11:
            return (
                "zgw.heartbeat", chance(0.5) ? .stranger : .worker,
                [Self.workerTag, [WorkerCommand.heartbeat.rawValue]] + extraFrames(0...1)
            )
        case 12: return ("zgw.disconnect", workerSide, [Self.workerTag, [WorkerCommand.disconnect.rawValue]])
        case 13: return ("broker-only", pick(FuzzPersona.allCases), brokerOnly())
        case 14: return ("mdp", chance(0.5) ? .stranger : .client, majordomo())
        case 15: return ("zgc.enqueue", clientSide, enqueue())
        case 16: return ("zgc.subscribe", clientSide, subscribe())
        case 17:
            return (
                "zgc.event-ack", clientSide, [Self.clientTag, [ClientCommand.eventAck.rawValue], requestID(), .bigEndian(u64() % 1000)]
            )
        case 18: return ("zgw.progress", workerSide, progress())
        case 19: return ("zgc.calls", clientSide, calls())
        case 20:
            let count = int(1...12)
            return (
                "zgw.replies", workerSide,
                [Self.workerTag, [WorkerCommand.replies.rawValue], (0..<count).flatMap { _ in dispatchID() }]
                    + (0..<count).map { _ in randomBytes(int(0...64)) }
                    + (chance(0.1) ? [randomBytes(int(0...8))] : [])
            )
        default: return ("random", pick(FuzzPersona.allCases), (0..<int(1...8)).map { _ in randomBytes(int(0...40)) })
        }
    }

    /// Request ids: mostly from a small range, so that some repeat calls still in flight and some
    /// CANCELs name real ones; sometimes any 64-bit value.
    private mutating func requestID() -> [UInt8] { .bigEndian(chance(0.8) ? UInt64(int(1...64)) : u64()) }

    /// Dispatch ids: mostly small, so that forged REPLYs and ERRORs name calls in flight elsewhere.
    private mutating func dispatchID() -> [UInt8] { .bigEndian(chance(0.8) ? UInt64(int(1...20_000)) : u64()) }

    private mutating func function() -> String {
        switch weighted([50, 10, 4, 20, 6, 10]) {
        case 0: return pick(Self.fuzzFunctions)
        case 1: return Self.shardedFunction
        case 2: return realFunction
        case 3: return pick(Self.unknownFunctions)
        case 4: return "rnd-\(int(0...999_999))"  // a name never seen before, forgotten after the grace period
        default: return pick(["", "bad name", "x/y", String(repeating: "n", count: 256), "é"])
        }
    }

    private mutating func header() -> [UInt8] {
        let timeout: UInt32
        switch weighted([15, 30, 40, 10, 5]) {
        case 0: timeout = 0  // the broker's default
        case 1: timeout = UInt32(int(1...50))
        case 2: timeout = UInt32(int(100...3000))
        case 3: timeout = UInt32.max
        default: timeout = UInt32(truncatingIfNeeded: u64())
        }
        let flags: UInt8 = chance(0.8) ? UInt8(int(0...1)) : byte()
        var bytes = CallHeader(flags: flags, priority: UInt8(int(0...9)), attempt: chance(0.9) ? 1 : byte(), timeoutMilliseconds: timeout)
            .encoded
        switch weighted([80, 10, 5, 5]) {
        case 0: break
        case 1: bytes.appendBigEndian(UInt32(int(0...20)))  // a shard field
        case 2: bytes += .bigEndian(UInt32.max) + .bigEndian(u64())  // no shard, a job id
        default: bytes += randomBytes(int(1...40))
        }
        return bytes
    }

    private mutating func payloadFrames(_ count: ClosedRange<Int>) -> [[UInt8]] {
        (0..<int(count)).map { _ in randomBytes(chance(0.9) ? int(0...64) : int(65...4096)) }
    }

    private mutating func extraFrames(_ count: ClosedRange<Int>) -> [[UInt8]] {
        (0..<int(count)).map { _ in randomBytes(int(0...16)) }
    }

    private mutating func call() -> [[UInt8]] {
        [Self.clientTag, [ClientCommand.call.rawValue], requestID(), Array(function().utf8), header()] + payloadFrames(0...3)
    }

    private mutating func scatterSpec() -> [UInt8] {
        switch weighted([30, 30, 20, 10, 10]) {
        case 0: return ScatterSpec(mode: .broadcast, gather: .all).encoded
        case 1: return ScatterSpec(mode: .map, gather: .all).encoded
        case 2: return ScatterSpec(mode: chance(0.5) ? .broadcast : .map, gather: .first(int(1...65_535))).encoded
        case 3: return ScatterSpec(mode: chance(0.5) ? .broadcast : .map, gather: .quorum).encoded
        default: return [UInt8(int(0...3)), UInt8(int(0...4)), byte(), byte()] + randomBytes(int(0...8))  // mostly invalid
        }
    }

    private mutating func scatter() -> [[UInt8]] {
        var name = function()
        // A broadcast over 4,096 shards makes 4,096 parts: rare, but it is the documented maximum.
        if chance(0.0005) { name = Self.hugeShardedFunction }
        let spec = scatterSpec()
        let inputs = spec.first == ScatterSpec.Mode.map.rawValue ? int(0...57) : int(0...2)
        return [Self.clientTag, [ClientCommand.scatter.rawValue], requestID(), Array(name.utf8), header(), spec]
            + (0..<inputs).map { _ in randomBytes(int(0...32)) }
    }

    private mutating func submit() -> [[UInt8]] {
        var spec = JobSpec(
            priority: UInt8(int(0...9)), maxAttempts: UInt16(int(0...5)), backoffMilliseconds: UInt32(int(0...2000)),
            timeLimitMilliseconds: UInt32(int(0...5000)), resultTTLSeconds: UInt32(int(0...100)),
            runAt: chance(0.8) ? 0 : Int64(bitPattern: u64())
        ).encoded
        if chance(0.2) { spec = Array(spec.prefix(int(0...40))) }
        let key = chance(0.5) ? [] : Array("key-\(int(0...20))".utf8)
        let tags = pick(["", "a", "a,b", ",", String(repeating: "t", count: 65), (0..<20).map { "t\($0)" }.joined(separator: ",")])
        return [Self.clientTag, [ClientCommand.submit.rawValue], requestID(), Array(function().utf8), spec, key, Array(tags.utf8)]
            + payloadFrames(0...2)
    }

    /// ENQUEUE: SUBMIT with a JSON keys frame, valid or not.
    private mutating func enqueue() -> [[UInt8]] {
        var frames = submit()
        frames[1] = [ClientCommand.enqueue.rawValue]
        let keys = pick([
            "", "{}", #"{"fairness":"tenant-1"}"#, #"{"replace":"r-1","batch":"b-1"}"#, #"{"unique":""}"#, "not json",
            #"{"unique":"\#(String(repeating: "k", count: 300))"}"#,
        ])
        if frames.count > 5 { frames[5] = Array(keys.utf8) }
        return frames
    }

    /// SUBSCRIBE with requests valid and not.
    private mutating func subscribe() -> [[UInt8]] {
        let request = pick([
            #"{"filter":{}}"#, #"{"filter":{"jobs":[1,2]},"after":0}"#, #"{"name":"fz","filter":{"pool":true}}"#, "bad",
            #"{"filter":{},"window":0}"#, #"{"filter":{"tags":["a"]},"after":18446744073709551615}"#, #"{"name":"","filter":{}}"#,
        ])
        return [Self.clientTag, [ClientCommand.subscribe.rawValue], requestID(), Array(request.utf8)]
    }

    /// PROGRESS for dispatch ids real and forged, fractions in and out of range.
    private mutating func progress() -> [[UInt8]] {
        let fraction: UInt32 = chance(0.8) ? UInt32(int(0...1_000_000)) : UInt32.random(in: 0...UInt32.max, using: &random)
        let message = chance(0.9) ? Array("step".utf8) : randomBytes(int(1000...1100))
        return [Self.workerTag, [WorkerCommand.progress.rawValue], dispatchID(), .bigEndian(fraction), message]
    }

    private mutating func job() -> [[UInt8]] {
        var frames = [
            Self.clientTag, [ClientCommand.job.rawValue], requestID(), [chance(0.8) ? UInt8(int(1...4)) : byte()], .bigEndian(u64() % 100),
        ]
        if chance(0.5) { frames.append(.bigEndian(UInt32(int(0...3000)))) }
        return frames
    }

    private mutating func jobs() -> [[UInt8]] {
        let filter = pick([#"{}"#, #"{"states":["dead"]}"#, #"{"limit":-1}"#, "not json", #"{"function":"fz0","limit":1000000}"#, ""])
        return [Self.clientTag, [ClientCommand.jobs.rawValue], requestID(), [chance(0.8) ? UInt8(int(1...2)) : byte()], Array(filter.utf8)]
    }

    private mutating func admin() -> [[UInt8]] {
        // DRAIN names a random worker id: it never matches a real worker's 5-byte identity by chance.
        // STATUS is the costliest command for the broker; a third of ADMINs ask for it.
        let verb: UInt8 = chance(0.9) ? (chance(0.35) ? AdminVerb.status.rawValue : AdminVerb.drain.rawValue) : byte()
        var frames = [Self.clientTag, [ClientCommand.admin.rawValue], requestID(), [verb]]
        if chance(0.7) { frames.append(Array(String(u64(), radix: 16).utf8)) }
        return frames
    }

    /// A valid READY: concurrency 1 to 64, plain fuzz functions and some shards of the sharded one.
    private mutating func validReady() -> [[UInt8]] {
        var descriptors = Self.fuzzFunctions.filter { _ in chance(0.6) }
        if descriptors.isEmpty { descriptors = [Self.fuzzFunctions[0]] }
        if chance(0.7) { descriptors.append(pick(["fzs:0-3/8", "fzs:4-7/8", "fzs:0,2,5-7/8", "fzs:0-7/8"])) }
        if chance(0.2) { descriptors.append(pick(["fzb+batch=4/10", "fzb+batch=48/0", "fzb+batch=49/10", "fzb+batch=x"])) }
        if chance(0.002) { descriptors.append("\(Self.hugeShardedFunction):0/4096") }
        var concurrency: [UInt8] = .bigEndian(UInt32(int(1...64)))
        if chance(0.5) { concurrency += .bigEndian(chance(0.9) ? WorkerCapabilities.batched.rawValue : UInt32(truncatingIfNeeded: u64())) }
        return [Self.workerTag, [WorkerCommand.ready.rawValue], concurrency] + descriptors.map { Array($0.utf8) }
    }

    /// CALLS: mostly a well-formed request table and one payload frame per entry; sometimes a
    /// broken entry, trailing bytes, or a payload too few.
    private mutating func calls() -> [[UInt8]] {
        var table: [UInt8] = []
        var payloads: [[UInt8]] = []
        for _ in 0..<int(1...12) {
            table += requestID()
            let header = header()
            table.append(chance(0.97) ? UInt8(truncatingIfNeeded: header.count) : byte())
            table += header
            let name = Array(function().utf8)
            table.append(chance(0.97) ? UInt8(truncatingIfNeeded: name.count) : byte())
            table += name
            payloads.append(randomBytes(chance(0.9) ? int(0...64) : int(65...1024)))
        }
        if chance(0.05) { table += randomBytes(int(1...8)) }
        if chance(0.05) { table = randomBytes(int(0...60)) }
        if chance(0.1) { payloads.removeLast() }
        return [Self.clientTag, [ClientCommand.calls.rawValue], table] + payloads
    }

    /// A READY that is malformed or at the edges: concurrency 0 or too large, bad names and shard sets.
    private mutating func oddReady() -> [[UInt8]] {
        let concurrency: UInt32 = pick([0, 1, 1_000_000, 1_000_001, UInt32.max, UInt32(int(1...8))])
        let descriptors = (0..<int(0...4)).map { _ in
            pick([
                "fzs:9/8", "fzs:3-1/8", "fzs:/8", "fzs:0-3/0", "fzs:0-3/70000", "fzs: 0 - 1 / 8", "fz0:", ":0/1", "fz 0", "",
                "fzs:0-99999999999/8", "fz2", "fzs:1/8", String(repeating: "z", count: 300),
            ])
        }
        let concurrencyFrame: [UInt8] = chance(0.8) ? .bigEndian(concurrency) : randomBytes(int(0...8))
        return [Self.workerTag, [WorkerCommand.ready.rawValue], concurrencyFrame] + descriptors.map { Array($0.utf8) }
    }

    private mutating func workerError() -> [[UInt8]] {
        let code: UInt16 = chance(0.85) ? UInt16(int(1...10)) : UInt16(truncatingIfNeeded: u64())
        let message = chance(0.9) ? Array("fuzz".utf8) : randomBytes(int(0...300))  // not always UTF-8
        return [Self.workerTag, [WorkerCommand.error.rawValue], dispatchID(), .bigEndian(code), message]
    }

    /// Commands only the broker sends, sent to the broker.
    private mutating func brokerOnly() -> [[UInt8]] {
        if chance(0.5) {
            let command = pick([ClientCommand.reply, .error, .part, .done, .accepted, .jobReply, .adminReply])
            return [Self.clientTag, [command.rawValue], requestID()] + payloadFrames(0...3)
        }
        let command = pick([WorkerCommand.request, .cancel])
        return [Self.workerTag, [command.rawValue], dispatchID(), Array(function().utf8), header()] + payloadFrames(0...1)
    }

    /// MDP/0.1 client and worker messages (the broker speaks MDP on the same socket).
    private mutating func majordomo() -> [[UInt8]] {
        switch weighted([30, 10, 25, 15, 10, 10]) {
        case 0:
            let service = chance(0.2) ? pick(["mmi.service", "mmi.other"]) : function()
            return [[], Self.mdpClient, Array(service.utf8)] + payloadFrames(0...2)
        case 1: return [[], Self.mdpWorker, [0x01], Array(pick(Self.fuzzFunctions + ["mmi.x", ""]).utf8)]
        case 2: return [[], Self.mdpWorker, [0x03], dispatchID(), chance(0.9) ? [] : [1]] + payloadFrames(0...2)
        case 3: return [[], Self.mdpWorker, [0x04]]
        case 4: return [[], Self.mdpWorker, [0x05]]
        default: return [[], chance(0.5) ? Self.mdpWorker : Self.mdpClient, [byte()]] + extraFrames(0...3)
        }
    }

    // MARK: Mutations

    private mutating func mutate(_ frames: inout [[UInt8]]) {
        switch weighted([12, 8, 12, 2, 8, 10, 10, 14, 5, 8, 5, 6]) {
        case 0:  // truncated
            if frames.count > 1 { frames.removeLast(int(1...(frames.count - 1))) }
        case 1:  // a frame dropped
            if frames.count > 1 { frames.remove(at: int(0...(frames.count - 1))) }
        case 2:  // extra frames, at the end or anywhere
            for _ in 0..<int(1...4) { frames.insert(randomBytes(int(0...24)), at: chance(0.6) ? frames.count : int(0...frames.count)) }
        case 3:  // more frames than the broker takes
            let target = int(60...300)
            while frames.count < target { frames.append(chance(0.5) ? [] : [byte()]) }
        case 4:  // the other protocol's tag, a wrong version, an MDP envelope, noise
            frames[0] = pick([Self.clientTag, Self.workerTag, Array("ZGC02".utf8), Array("ZGW0".utf8), [], Self.mdpClient, randomBytes(5)])
        case 5:  // a wrong command byte
            if frames.count > 1 { frames[1] = chance(0.8) ? [byte()] : randomBytes(int(0...3)) }
        case 6:  // an id frame of the wrong length
            if frames.count > 2 { frames[2] = randomBytes(pick([0, 1, 4, 7, 9, 16])) }
        case 7:  // one frame corrupted: bits flipped, resized or replaced
            guard !frames.isEmpty else { return }
            let index = int(0...(frames.count - 1))
            switch int(0...2) {
            case 0 where !frames[index].isEmpty:
                for _ in 0..<int(1...3) { frames[index][int(0...(frames[index].count - 1))] ^= UInt8(1) << UInt8(int(0...7)) }
            case 1: frames[index] = Array(frames[index].prefix(int(0...frames[index].count))) + randomBytes(int(0...4))
            default: frames[index] = randomBytes(int(0...32))
            }
        case 8:  // a frame duplicated
            if !frames.isEmpty {
                let index = int(0...(frames.count - 1))
                frames.insert(frames[index], at: index)
            }
        case 9:  // the header frame (of CALL, SCATTER) short or out of range
            guard frames.count > 4 else { return }
            if chance(0.5) {
                frames[4] = Array(frames[4].prefix(int(0...7)))
            } else if !frames[4].isEmpty {
                frames[4][min(1, frames[4].count - 1)] = UInt8(int(10...255))
            }
        case 10:  // frames shuffled
            frames.shuffle(using: &random)
        default:  // an empty frame somewhere
            frames.insert([], at: int(0...frames.count))
        }
    }
}
