import Testing
import ZGridProtocol

@Suite("Fixed-size frames encode and decode")
struct FrameTests {
    private func decode<T>(_ bytes: [UInt8], _ make: (UnsafeRawBufferPointer) -> T?) -> T? {
        bytes.withUnsafeBytes { make($0) }
    }

    @Test("the call header round-trips, with and without shard and job")
    func callHeader() {
        let plain = CallHeader(flags: CallHeader.idempotentFlag, priority: 7, attempt: 2, timeoutMilliseconds: 1234)
        #expect(plain.encoded.count == 8)
        #expect(decode(plain.encoded, CallHeader.init(decoding:)) == plain)
        let sharded = CallHeader(timeoutMilliseconds: 5, shard: 3)
        #expect(sharded.encoded.count == 12)
        #expect(decode(sharded.encoded, CallHeader.init(decoding:)) == sharded)
        let job = CallHeader(timeoutMilliseconds: 5, job: 0xDEAD_BEEF_0000_0001)
        #expect(job.encoded.count == 20)
        #expect(decode(job.encoded, CallHeader.init(decoding:)) == job)
        #expect(decode([0, 10, 1, 0, 0, 0, 0, 1], CallHeader.init(decoding:)) == nil, "priority 10 is refused")
        #expect(decode([0, 1, 1], CallHeader.init(decoding:)) == nil, "short header is refused")
        #expect(decode(plain.encoded + [9, 9, 9], CallHeader.init(decoding:))?.priority == 7, "unknown trailing bytes are ignored")
    }

    @Test("scatter specs, part headers and summaries round-trip; bad ones are refused")
    func scatterFrames() {
        for spec in [
            ScatterSpec(mode: .broadcast), ScatterSpec(mode: .map, gather: .first(3)), ScatterSpec(mode: .broadcast, gather: .quorum),
        ] {
            #expect(decode(spec.encoded, ScatterSpec.init(decoding:)) == spec)
        }
        #expect(decode([2, 0, 0, 0, 0, 0, 0, 0], ScatterSpec.init(decoding:)) == nil, "unknown mode")
        #expect(decode([0, 1, 0, 0, 0, 0, 0, 0], ScatterSpec.init(decoding:)) == nil, "first 0")
        #expect(ScatterSpec(mode: .broadcast, gather: .quorum).needed(of: 16) == 9)
        #expect(ScatterSpec(mode: .broadcast, gather: .first(20)).needed(of: 16) == 16)
        let part = PartHeader(index: 15, error: .timeout)
        #expect(decode(part.encoded, PartHeader.init(decoding:)) == part)
        #expect(decode(PartHeader(index: 1, error: nil).encoded, PartHeader.init(decoding:))?.error == nil)
        let summary = ScatterSummary(parts: 16, succeeded: 14, failed: 2)
        #expect(decode(summary.encoded, ScatterSummary.init(decoding:)) == summary)
    }

    @Test("job specs round-trip; priority above 9 and zero attempts are refused")
    func jobSpec() {
        let spec = JobSpec(
            priority: 9, maxAttempts: 5, backoffMilliseconds: 250, timeLimitMilliseconds: 60_000, resultTTLSeconds: 3600,
            runAt: 1_800_000_000_000)
        #expect(spec.encoded.count == JobSpec.size)
        #expect(decode(spec.encoded, JobSpec.init(decoding:)) == spec)
        var bad = spec.encoded
        bad[0] = 10
        #expect(decode(bad, JobSpec.init(decoding:)) == nil)
        var zero = spec.encoded
        zero[2] = 0
        zero[3] = 0
        #expect(decode(zero, JobSpec.init(decoding:)) == nil)
    }

    @Test("shard sets and service descriptors parse and print canonically")
    func shards() throws {
        guard case .success(let spec) = ShardSpec.parse(" 0-3, 7, 5-6 /16") else { Issue.record("parse failed"); return }
        #expect(spec.indices == [0, 1, 2, 3, 5, 6, 7])
        #expect(spec.description == "0-3,5-7/16")
        guard case .failure(let error) = ShardSpec.parse("3-16/16") else { Issue.record("accepted 16 of 16"); return }
        #expect(error.reason.contains("not below the total"))
        #expect(
            ServiceDescriptor(parsing: "search:0-3/16")
                == ServiceDescriptor(name: "search", shards: ShardSpec(sortedIndices: [0, 1, 2, 3], total: 16)))
        #expect(ServiceDescriptor(parsing: "echo")?.shards == nil)
        #expect(ServiceDescriptor(parsing: "bad name") == nil)
        #expect(ServiceDescriptor(parsing: "search:x/2") == nil)
        #expect(ServiceDescriptor(parsing: "search:0-1/2")?.description == "search:0-1/2")
    }

    @Test("function names and tags follow their rules")
    func names() {
        #expect(FunctionName.isValid("resize.v2_fast-path"))
        #expect(!FunctionName.isValid(""))
        #expect(!FunctionName.isValid("with space"))
        #expect(!FunctionName.isValid(String(repeating: "a", count: 256)))
        #expect(JobTags.parse("a,b") == ["a", "b"])
        #expect(JobTags.parse("") == [])
        #expect(JobTags.parse("a,,b") == nil)
        #expect(JobTags.parse(Array(repeating: "t", count: 17).joined(separator: ",")) == nil)
    }
}
