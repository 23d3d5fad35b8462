/// Why an incoming message was rejected as malformed; counted and logged by the receiver.
public enum MalformedReason: String, Error, Sendable, CaseIterable, CustomStringConvertible {
    /// More frames than the receiver accepts.
    case tooManyFrames = "too many frames"
    /// Fewer frames than the command needs.
    case missingFrames = "missing frames"
    /// The protocol frame is neither ZGC01 nor ZGW01.
    case unknownProtocol = "unknown protocol or version"
    /// The command frame is not a known command for the protocol.
    case unknownCommand = "unknown command"
    /// An id frame is not 8 bytes.
    case badID = "bad request id"
    /// The function name is empty, too long, or has characters outside A-Z a-z 0-9 . _ -.
    case badFunctionName = "bad function name"
    /// The header frame is short or out of range.
    case badHeader = "bad header"
    /// READY's concurrency frame is not a 4-byte count from 1 to 1,000,000.
    case badConcurrency = "bad concurrency"
    /// An ERROR's code frame is not a known 2-byte code.
    case badErrorCode = "bad error code"
    /// A SCATTER's spec frame is short or names an unknown mode or policy.
    case badScatterSpec = "bad scatter spec"
    /// A PART or DONE frame is malformed.
    case badPart = "bad part"
    /// A SUBMIT's spec, unique key or tags frame is invalid.
    case badJobSpec = "bad job spec"
    /// A JOB or JOBS command's verb is unknown.
    case badVerb = "bad job verb"
    /// An MDP message's envelope delimiter (the empty frame before the tag, or after a client
    /// address) is not empty.
    case badEnvelope = "bad envelope"
    /// A frame is larger than allowed.
    case frameTooLarge = "frame too large"
    /// A PROGRESS's fraction is not 4 bytes of at most 1,000,000 millionths, or its message is too long.
    case badProgress = "bad progress"
    /// CALLS, REQUESTS or REPLIES with a malformed request table or id frame, or whose payload
    /// frames do not match it one to one.
    case badBatch = "bad batched message"

    /// The reason as text.
    public var description: String { rawValue }
}
