import ZeroMQ

/// A message a worker received from the broker (DEALER side: no identity frame).
public enum WorkerInbound: Sendable, Equatable {
    /// REQUEST: run `function`; payload frames start at `payloadStart`.
    case request(dispatchID: UInt64, function: String, header: CallHeader, payloadStart: Int)
    /// REQUESTS: several requests: the request table in frame 2, then one payload frame each (read
    /// them with ``BatchedRequestTable/forEach(in:_:)`` from the decoded message).
    case requests(BatchedRequestTable)
    /// CANCEL: stop a running request.
    case cancel(dispatchID: UInt64)
    /// HEARTBEAT, with the broker's limits when it sent them: the most frames, the routing identity
    /// included, it takes in one message (it bounds REPLIES), and the most bytes it takes in one
    /// frame (a larger result would cost the worker its connection); `resumes` when the broker
    /// takes a READY that resumes an earlier session (``WorkerHeartbeat/resumes``).
    case heartbeat(frameLimit: Int?, frameBytesLimit: Int?, resumes: Bool = false)
    /// HEARTBEAT marked as the broker's answer to this worker's DISCONNECT: every REQUEST the broker
    /// sent it came before, and no more follow.
    case drainAcknowledged
    /// DISCONNECT: the broker does not know this worker; register again. `reason`, from its
    /// optional frame 2, says why when the broker refuses the worker (such as a CURVE key without
    /// the worker role): registering again would be refused the same way.
    case disconnect(reason: String?)

    /// Decodes a message received on a worker's DEALER socket.
    public static func decode(_ message: Multipart) -> Result<WorkerInbound, MalformedReason> {
        if message.truncated { return .failure(.tooManyFrames) }
        guard message.count >= 2 else { return .failure(.missingFrames) }
        guard message.frameEquals(0, ProtocolTag.worker) else { return .failure(.unknownProtocol) }
        guard let byte = message.singleByte(1), let command = WorkerCommand(rawValue: byte) else {
            return .failure(.unknownCommand)
        }
        switch command {
        case .request:
            guard message.count >= 5 else { return .failure(.missingFrames) }
            guard let id = message.id(2) else { return .failure(.badID) }
            guard let function = message.functionName(3) else { return .failure(.badFunctionName) }
            guard let header = message.header(4) else { return .failure(.badHeader) }
            return .success(.request(dispatchID: id, function: function, header: header, payloadStart: 5))
        case .requests:
            guard let entries = message.batchedRequests(tableAt: 2) else { return .failure(.badBatch) }
            return .success(.requests(entries))
        case .cancel:
            guard message.count >= 3, let id = message.id(2) else { return .failure(.badID) }
            return .success(.cancel(dispatchID: id))
        case .heartbeat:
            let flag = message.count > 4 ? message.bytes(4) : []
            if flag == WorkerHeartbeat.drainAcknowledged { return .success(.drainAcknowledged) }
            return .success(
                .heartbeat(
                    frameLimit: message.limit(at: 2), frameBytesLimit: message.limit(at: 3), resumes: flag == WorkerHeartbeat.resumes))
        case .disconnect:
            let reason = message.count > 2 ? String(decoding: message.bytes(2), as: UTF8.self) : nil
            return .success(.disconnect(reason: reason?.isEmpty == false ? reason : nil))
        case .ready, .reply, .replies, .error, .progress:
            return .failure(.unknownCommand)
        }
    }
}

/// A message a client received from the broker (DEALER side: no identity frame).
public enum ClientInbound: Sendable, Equatable {
    /// REPLY: the result; payload frames start at `payloadStart`.
    case reply(requestID: UInt64, payloadStart: Int)
    /// ERROR: the call failed; BUSY from admission control carries a retry-after time.
    case failure(requestID: UInt64, code: ErrorCode, message: String, retryAfterMilliseconds: UInt32?)
    /// HEARTBEAT, with the broker's limits when it sent them: the most frames, the routing identity
    /// included, it takes in one message (it bounds CALLS), the most bytes it takes in one frame (a
    /// larger payload would cost the client its connection), and the most calls and scatters it
    /// takes in flight from one client (more are refused BUSY); nil for each it did not send, and
    /// for a limit of calls in flight of 0.
    case heartbeat(frameLimit: Int?, frameBytesLimit: Int?, inFlightLimit: Int? = nil)
    /// REPLIES: results for `requestIDs`, the payload of the i-th in frame 3 + i.
    case replies(requestIDs: [UInt64])
    /// PART: one part of a scatter; on success payload frames start at `payloadStart`, on failure
    /// the message is in that frame.
    case part(requestID: UInt64, header: PartHeader, payloadStart: Int)
    /// DONE: a scatter is over.
    case done(requestID: UInt64, summary: ScatterSummary)
    /// ACCEPTED: a submitted job is durable.
    case accepted(requestID: UInt64, jobID: UInt64)
    /// JOB-REPLY: the JSON answer to a JOB or JOBS command, in frame `payloadStart`.
    case jobReply(requestID: UInt64, payloadStart: Int)
    /// EVENT: events of a subscription, one JSON event per frame from `payloadStart` on.
    case event(requestID: UInt64, payloadStart: Int)
    /// PARTS: several parts of a scatter, from `payloadStart` on in pairs of a part header frame
    /// and one body frame (the payload, or the message of a failed part).
    case parts(requestID: UInt64, payloadStart: Int)

    /// Decodes a message received on a client's DEALER socket.
    public static func decode(_ message: Multipart) -> Result<ClientInbound, MalformedReason> {
        if message.truncated { return .failure(.tooManyFrames) }
        guard message.count >= 2 else { return .failure(.missingFrames) }
        guard message.frameEquals(0, ProtocolTag.client) else { return .failure(.unknownProtocol) }
        guard let byte = message.singleByte(1), let command = ClientCommand(rawValue: byte) else {
            return .failure(.unknownCommand)
        }
        switch command {
        case .reply:
            guard message.count >= 3, let id = message.id(2) else { return .failure(.badID) }
            return .success(.reply(requestID: id, payloadStart: 3))
        case .error:
            guard message.count == 5 || message.count == 6, let id = message.id(2) else { return .failure(.missingFrames) }
            guard let (code, text) = message.errorBody(3) else { return .failure(.badErrorCode) }
            var retryAfter: UInt32?
            if message.count == 6 {
                guard let value = message.withBytes(5, { $0.count == 4 ? $0.readBigEndianUInt32() : nil }) else {
                    return .failure(.badErrorCode)
                }
                retryAfter = value
            }
            return .success(.failure(requestID: id, code: code, message: text, retryAfterMilliseconds: retryAfter))
        case .heartbeat:
            return .success(
                .heartbeat(
                    frameLimit: message.limit(at: 2), frameBytesLimit: message.limit(at: 3),
                    inFlightLimit: message.limit(at: 4).flatMap { $0 > 0 ? $0 : nil }))
        case .replies:
            guard let ids = message.batchIDs(tableAt: 2) else { return .failure(.badBatch) }
            return .success(.replies(requestIDs: ids))
        case .part:
            guard message.count >= 4, let id = message.id(2) else { return .failure(.missingFrames) }
            guard let header = message.withBytes(3, { PartHeader(decoding: $0) }) else { return .failure(.badPart) }
            return .success(.part(requestID: id, header: header, payloadStart: 4))
        case .done:
            guard message.count == 4, let id = message.id(2) else { return .failure(.missingFrames) }
            guard let summary = message.withBytes(3, { ScatterSummary(decoding: $0) }) else { return .failure(.badPart) }
            return .success(.done(requestID: id, summary: summary))
        case .accepted:
            guard message.count == 4, let id = message.id(2), let job = message.id(3) else { return .failure(.badID) }
            return .success(.accepted(requestID: id, jobID: job))
        case .jobReply, .adminReply:
            guard message.count >= 4, let id = message.id(2) else { return .failure(.missingFrames) }
            return .success(.jobReply(requestID: id, payloadStart: 3))
        case .event:
            guard message.count >= 4, let id = message.id(2) else { return .failure(.missingFrames) }
            return .success(.event(requestID: id, payloadStart: 3))
        case .parts:
            guard message.count >= 5, (message.count - 3) % 2 == 0, let id = message.id(2) else { return .failure(.missingFrames) }
            for index in stride(from: 3, to: message.count, by: 2) where message.withBytes(index, { PartHeader(decoding: $0) }) == nil {
                return .failure(.badPart)
            }
            return .success(.parts(requestID: id, payloadStart: 3))
        case .call, .calls, .cancel, .scatter, .submit, .job, .jobs, .admin, .subscribe, .eventAck, .enqueue:
            return .failure(.unknownCommand)
        }
    }
}
