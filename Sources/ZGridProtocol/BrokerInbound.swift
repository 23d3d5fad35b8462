import ZeroMQ

/// A message the broker received on its ROUTER socket, decoded except for payload frames.
///
/// Payload frames stay in the ``Multipart`` buffer from `payloadStart` on, so they can be forwarded
/// without a copy.
public enum BrokerInbound: Sendable, Equatable {
    /// CALL from a client.
    case call(requestID: UInt64, function: String, header: CallHeader, payloadStart: Int)
    /// CALLS from a client: several calls, each with one payload frame (read them with
    /// ``BatchedRequestTable/forEach(in:_:)`` from the decoded message).
    case calls(BatchedRequestTable)
    /// CANCEL from a client.
    case cancel(requestID: UInt64)
    /// HEARTBEAT from a client.
    case clientHeartbeat
    /// SCATTER from a client.
    case scatter(requestID: UInt64, function: String, header: CallHeader, spec: ScatterSpec, payloadStart: Int)
    /// SUBMIT or ENQUEUE from a client.
    case submit(requestID: UInt64, function: String, spec: JobSpec, keys: JobKeys, tags: [String], payloadStart: Int)
    /// JOB from a client: `verb` on job `jobID`; `waitMilliseconds` for WAIT.
    case job(requestID: UInt64, verb: JobVerb, jobID: UInt64, waitMilliseconds: UInt32)
    /// JOBS from a client: `verb` on the jobs matching a JSON filter.
    case jobs(requestID: UInt64, verb: JobsVerb, filter: [UInt8])
    /// ADMIN from a client: an operator command with its argument frame.
    case admin(requestID: UInt64, verb: AdminVerb, argument: [UInt8])
    /// SUBSCRIBE from a client: its JSON request.
    case subscribe(requestID: UInt64, request: [UInt8])
    /// EVENT-ACK from a client: the subscription's events up to `seq` were taken.
    case eventAck(requestID: UInt64, seq: UInt64)
    /// PROGRESS from a worker: `fraction` (0 to 1) and a message for a running request.
    case progress(dispatchID: UInt64, fraction: Double, message: String)
    /// READY from a worker, with the capabilities it announced and, with ``WorkerCapabilities/resuming``,
    /// the earlier session it resumes.
    indirect case ready(concurrency: Int, functions: [ServiceDescriptor], capabilities: WorkerCapabilities, resume: SessionResume? = nil)
    /// REPLY from a worker.
    case reply(dispatchID: UInt64, payloadStart: Int)
    /// REPLIES from a worker: results for `dispatchIDs`, the payload of the i-th in frame 4 + i.
    case replies(dispatchIDs: [UInt64])
    /// ERROR from a worker.
    case failure(dispatchID: UInt64, code: ErrorCode, message: String)
    /// HEARTBEAT from a worker.
    case workerHeartbeat
    /// DISCONNECT from a worker.
    case disconnect

    /// The largest concurrency a worker may announce.
    public static let maxConcurrency = 1_000_000

    /// Whether a message (frame 0 the identity) speaks as a worker (ZGW01, or MDPW01 after the
    /// empty delimiter) rather than as a client.
    public static func speaksAsWorker(_ message: Multipart) -> Bool {
        guard message.count >= 2 else { return false }
        if message.frameEquals(1, ProtocolTag.worker) { return true }
        return message.count >= 3 && message.size(1) == 0 && message.frameEquals(2, Array("MDPW01".utf8))
    }

    /// Decodes a message whose frame 0 is the sender's routing identity.
    public static func decode(_ message: Multipart) -> Result<BrokerInbound, MalformedReason> {
        if message.truncated { return .failure(.tooManyFrames) }
        guard message.count >= 3 else { return .failure(.missingFrames) }
        if message.frameEquals(1, ProtocolTag.client) {
            guard let byte = message.singleByte(2), let command = ClientCommand(rawValue: byte) else {
                return .failure(.unknownCommand)
            }
            return decodeClient(command, message)
        }
        if message.frameEquals(1, ProtocolTag.worker) {
            guard let byte = message.singleByte(2), let command = WorkerCommand(rawValue: byte) else {
                return .failure(.unknownCommand)
            }
            return decodeWorker(command, message)
        }
        return .failure(.unknownProtocol)
    }

    private static func decodeClient(_ command: ClientCommand, _ message: Multipart) -> Result<BrokerInbound, MalformedReason> {
        switch command {
        case .call:
            guard message.count >= 6 else { return .failure(.missingFrames) }
            guard let id = message.id(3) else { return .failure(.badID) }
            guard let function = message.functionName(4) else { return .failure(.badFunctionName) }
            guard let header = message.header(5) else { return .failure(.badHeader) }
            return .success(.call(requestID: id, function: function, header: header, payloadStart: 6))
        case .calls:
            guard let entries = message.batchedRequests(tableAt: 3) else { return .failure(.badBatch) }
            return .success(.calls(entries))
        case .cancel:
            guard message.count == 4 else { return .failure(.missingFrames) }
            guard let id = message.id(3) else { return .failure(.badID) }
            return .success(.cancel(requestID: id))
        case .heartbeat:
            return .success(.clientHeartbeat)
        case .scatter:
            guard message.count >= 7 else { return .failure(.missingFrames) }
            guard let id = message.id(3) else { return .failure(.badID) }
            guard let function = message.functionName(4) else { return .failure(.badFunctionName) }
            guard let header = message.header(5) else { return .failure(.badHeader) }
            guard let spec = message.withBytes(6, { ScatterSpec(decoding: $0) }) else { return .failure(.badScatterSpec) }
            return .success(.scatter(requestID: id, function: function, header: header, spec: spec, payloadStart: 7))
        case .submit:
            guard message.count >= 8 else { return .failure(.missingFrames) }
            guard let id = message.id(3) else { return .failure(.badID) }
            guard let function = message.functionName(4) else { return .failure(.badFunctionName) }
            guard let spec = message.withBytes(5, { JobSpec(decoding: $0) }) else { return .failure(.badJobSpec) }
            let key = message.withBytes(6) { $0.isEmpty ? nil : String(decoding: $0, as: UTF8.self) }
            let tagText = message.withBytes(7) { String(decoding: $0, as: UTF8.self) }
            guard (key?.utf8.count ?? 0) <= 255, let tags = JobTags.parse(tagText) else { return .failure(.badJobSpec) }
            return .success(.submit(requestID: id, function: function, spec: spec, keys: JobKeys(unique: key), tags: tags, payloadStart: 8))
        case .enqueue:
            guard message.count >= 8 else { return .failure(.missingFrames) }
            guard let id = message.id(3) else { return .failure(.badID) }
            guard let function = message.functionName(4) else { return .failure(.badFunctionName) }
            guard let spec = message.withBytes(5, { JobSpec(decoding: $0) }) else { return .failure(.badJobSpec) }
            guard message.size(6) <= 4096, let keys = JobKeys.decode(message.bytes(6)), keys.isValid else { return .failure(.badJobSpec) }
            let tagText = message.withBytes(7) { String(decoding: $0, as: UTF8.self) }
            guard let tags = JobTags.parse(tagText) else { return .failure(.badJobSpec) }
            return .success(.submit(requestID: id, function: function, spec: spec, keys: keys, tags: tags, payloadStart: 8))
        case .job:
            guard message.count >= 6 else { return .failure(.missingFrames) }
            guard let id = message.id(3) else { return .failure(.badID) }
            guard let byte = message.singleByte(4), let verb = JobVerb(rawValue: byte) else { return .failure(.badVerb) }
            guard let jobID = message.id(5) else { return .failure(.badID) }
            let wait: UInt32 = message.count >= 7 ? message.withBytes(6) { $0.count == 4 ? $0.readBigEndianUInt32() : 0 } : 0
            return .success(.job(requestID: id, verb: verb, jobID: jobID, waitMilliseconds: wait))
        case .jobs:
            guard message.count >= 6 else { return .failure(.missingFrames) }
            guard let id = message.id(3) else { return .failure(.badID) }
            guard let byte = message.singleByte(4), let verb = JobsVerb(rawValue: byte) else { return .failure(.badVerb) }
            return .success(.jobs(requestID: id, verb: verb, filter: message.bytes(5)))
        case .admin:
            guard message.count >= 5 else { return .failure(.missingFrames) }
            guard let id = message.id(3) else { return .failure(.badID) }
            guard let byte = message.singleByte(4), let verb = AdminVerb(rawValue: byte) else { return .failure(.badVerb) }
            return .success(.admin(requestID: id, verb: verb, argument: message.count >= 6 ? message.bytes(5) : []))
        case .subscribe:
            guard message.count == 5 else { return .failure(.missingFrames) }
            guard let id = message.id(3) else { return .failure(.badID) }
            return .success(.subscribe(requestID: id, request: message.bytes(4)))
        case .eventAck:
            guard message.count == 5 else { return .failure(.missingFrames) }
            guard let id = message.id(3), let seq = message.id(4) else { return .failure(.badID) }
            return .success(.eventAck(requestID: id, seq: seq))
        case .reply, .error, .part, .done, .accepted, .jobReply, .adminReply, .event, .parts, .replies:
            return .failure(.unknownCommand)
        }
    }

    private static func decodeWorker(_ command: WorkerCommand, _ message: Multipart) -> Result<BrokerInbound, MalformedReason> {
        switch command {
        case .ready:
            guard message.count >= 5 else { return .failure(.missingFrames) }
            let concurrency: Int? = message.withBytes(3) {
                $0.count == 4 || $0.count == 8 ? Int($0.readBigEndianUInt32()) : nil
            }
            let capabilities = message.withBytes(3) {
                $0.count == 8 ? WorkerCapabilities(rawValue: UnsafeRawBufferPointer(rebasing: $0[4...]).readBigEndianUInt32()) : []
            }
            guard let concurrency, concurrency >= 1, concurrency <= maxConcurrency else {
                return .failure(.badConcurrency)
            }
            var resume: SessionResume?
            if capabilities.contains(.resuming) {
                guard message.count >= 7 else { return .failure(.missingFrames) }
                resume = SessionResume.decode(message, at: 4, maxListed: SessionResume.maxListed(concurrency: concurrency))
                guard resume != nil else { return .failure(.badID) }
            }
            var functions: [ServiceDescriptor] = []
            for index in (resume == nil ? 4 : 6)..<message.count {
                let text = message.withBytes(index) { String(decoding: $0, as: UTF8.self) }
                guard let descriptor = ServiceDescriptor(parsing: text) else { return .failure(.badFunctionName) }
                functions.append(descriptor)
            }
            return .success(.ready(concurrency: concurrency, functions: functions, capabilities: capabilities, resume: resume))
        case .reply:
            guard message.count >= 4 else { return .failure(.missingFrames) }
            guard let id = message.id(3) else { return .failure(.badID) }
            return .success(.reply(dispatchID: id, payloadStart: 4))
        case .replies:
            guard let ids = message.batchIDs(tableAt: 3) else { return .failure(.badBatch) }
            return .success(.replies(dispatchIDs: ids))
        case .error:
            guard message.count == 6 else { return .failure(.missingFrames) }
            guard let id = message.id(3) else { return .failure(.badID) }
            guard let (code, text) = message.errorBody(4) else { return .failure(.badErrorCode) }
            return .success(.failure(dispatchID: id, code: code, message: text))
        case .heartbeat:
            return .success(.workerHeartbeat)
        case .disconnect:
            return .success(.disconnect)
        case .progress:
            guard message.count == 6 else { return .failure(.missingFrames) }
            guard let id = message.id(3) else { return .failure(.badID) }
            let fraction: Double? = message.withBytes(4) { $0.count == 4 ? Double($0.readBigEndianUInt32()) / 1_000_000 : nil }
            guard let fraction, fraction <= 1, message.size(5) <= ProgressReport.maxMessageBytes else { return .failure(.badProgress) }
            let text = message.withBytes(5) { String(decoding: $0, as: UTF8.self) }
            return .success(.progress(dispatchID: id, fraction: fraction, message: text))
        case .request, .requests, .cancel:
            return .failure(.unknownCommand)
        }
    }
}
