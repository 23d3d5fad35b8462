import ZGridJobStore
import ZGridProtocol

/// An opaque token naming payload frames that the I/O shell holds for the core.
///
/// The core never sees payload bytes. Every handle it receives ends in exactly one action that
/// consumes it: ``BrokerAction/request(worker:dispatchID:function:header:payload:consume:)`` with
/// `consume`, ``BrokerAction/reply(client:requestID:payload:)``, or ``BrokerAction/release(_:)``.
public typealias PayloadHandle = Int

/// A decoded message, as the core sees it.
///
/// Cases that carry a large value (scatter specs, job requests) are `indirect`, so that the
/// frequent ones (CALL, REPLY) are passed around small.
public enum CoreMessage: Sendable, Equatable {
    /// CALL from a client.
    case call(requestID: UInt64, function: String, header: CallHeader, payload: PayloadHandle)
    /// CANCEL from a client.
    case cancel(requestID: UInt64)
    /// HEARTBEAT from a client.
    case clientHeartbeat
    /// SCATTER from a client; `inputs` is the number of payload frames.
    indirect case scatter(requestID: UInt64, function: String, header: CallHeader, spec: ScatterSpec, payload: PayloadHandle, inputs: Int)
    /// SUBMIT from a client, its payload copied out.
    indirect case submit(requestID: UInt64, function: String, spec: JobSpec, keys: JobKeys, tags: [String], payload: [UInt8])
    /// JOB from a client.
    indirect case job(requestID: UInt64, verb: JobVerb, jobID: UInt64, waitMilliseconds: UInt32)
    /// JOBS from a client, its filter decoded.
    indirect case jobs(requestID: UInt64, verb: JobsVerb, query: JobQuery)
    /// READY from a worker; `heartbeats` says when it heartbeats (MDP workers only while idle);
    /// `resume`, when the worker resumes an earlier session of its own, names that session and the
    /// requests of it the worker still runs; `key`, with CURVE on, is the worker's public key (Z85),
    /// and a resume is honoured only when the session it names has the same key.
    indirect case ready(
        concurrency: Int, functions: [ServiceDescriptor], heartbeats: WorkerHeartbeats = .always, resume: SessionResume? = nil,
        key: String? = nil)
    /// REPLY from a worker.
    case reply(dispatchID: UInt64, payload: PayloadHandle)
    /// REPLY from a worker to a batch: one result per job, decoded by the shell.
    case batchReply(dispatchID: UInt64, results: [BatchResult])
    /// ERROR from a worker.
    case failure(dispatchID: UInt64, code: ErrorCode, message: String)
    /// HEARTBEAT from a worker.
    case workerHeartbeat
    /// PROGRESS from a worker: how far a running request has come.
    case progress(dispatchID: UInt64, fraction: Double, message: String)
    /// DISCONNECT from a worker.
    case disconnect
}

/// Everything that drives the broker core.
///
/// The rare cases with a large value (store results and failures, malformed reasons) are
/// `indirect`, as in ``CoreMessage``.
public enum BrokerEvent: Sendable, Equatable {
    /// A message from `peer`.
    case message(from: PeerID, CoreMessage)
    /// A message from `peer` that could not be decoded.
    indirect case malformed(from: PeerID, MalformedReason)
    /// Time passed: expire deadlines, send heartbeats, drop silent peers.
    case tick
    /// The transport found `peer`'s connection gone (the broker's HEARTBEAT to the worker found no
    /// connection with its identity: its process died, or it reconnected under another identity):
    /// a worker is lost at once, as if silent for the expiry.
    case connectionClosed(from: PeerID)
    /// The job store made these writes durable.
    case storeCommitted(tokens: [UInt64])
    /// The job store answered a read.
    indirect case storeRead(token: UInt64, Result<StoreReadResult, JobStoreError>)
    /// The job store failed the transaction holding the writes handed to it with `tokens`: none of
    /// them is stored. Writes handed to it with other tokens are not concerned: they may commit.
    indirect case storeFailed(JobStoreError, tokens: [UInt64])
}
