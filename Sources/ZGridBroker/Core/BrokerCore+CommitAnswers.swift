import ZGridJobStore
import ZGridProtocol

/// Answers held until a store write commits. Whatever tells a client that a job has finished (a
/// JOB-REPLY to a CANCEL or WAIT, a `succeeded`, `dead` or `cancelled` event) goes out only once
/// the job's final record is durable, as a SUBMIT is acknowledged only once its job is: a broker
/// killed before the commit leaves the job as the store had it (to run again after a restart), and
/// no client was told it had finished.
extension BrokerCore {
    /// Hands the cancelled `record` to the store, and holds until that write commits its
    /// `cancelled` event and a JOB-REPLY with it to each of `requests`.
    mutating func writeCancel(_ record: JobRecord, answering requests: [ClientRequest], into actions: inout [BrokerAction]) {
        let token = takeToken()
        actions.append(storeWrite([.upsert(record)], token: token))
        var held = [jobEvent(.cancelled, record, worker: record.worker, attempt: record.attempts, error: record.lastError)]
        for request in requests where request.client != Self.jobClient {
            held.append(.jobReply(client: request.client, requestID: request.requestID, answer: JobAnswer(jobs: [record.info])))
        }
        answerAtCommit(token, held)
    }

    /// Hands the final `record` of a job that succeeded, failed or died (with its `result` payload,
    /// if any) to the store, and holds until that write commits its final event and a JOB-REPLY
    /// with it to each of `requests` (the JOB WAITs held on it).
    mutating func writeFinal(
        _ record: JobRecord, result: PayloadHandle?, answering requests: [ClientRequest], into actions: inout [BrokerAction]
    ) {
        let token = takeToken()
        actions.append(storeFinal(record, result: result, token: token))
        answerAtCommit(token, [.jobFinished(record, result: result, notify: requests.filter { $0.client != Self.jobClient })])
    }

    /// Holds `held` (answers and events) until the store write with `token` commits.
    mutating func answerAtCommit(_ token: UInt64, _ held: [BrokerAction]) {
        guard !held.isEmpty else { return }
        answersAtCommit[token, default: []] += held
    }

    /// The store failed the transaction holding the writes with `tokens`: every answer held for
    /// them stands for a write that is not on disk, so each JOB-REPLY becomes ERROR `INTERNAL`.
    /// The events go out: the jobs have finished in this broker's memory and do not run again
    /// before a restart.
    mutating func failAnswersAtCommit(_ error: JobStoreError, tokens: [UInt64], into actions: inout [BrokerAction]) {
        for token in tokens {
            guard let held = answersAtCommit.removeValue(forKey: token) else { continue }
            for action in held {
                switch action {
                case .jobReply(let client, let requestID, _):
                    actions.append(
                        .fail(
                            client: client, requestID: requestID, code: .internal,
                            message: "the job store failed: \(error); the cancel may not be on disk, and the job may run after a restart"))
                case .jobFinished(let record, let result, let notify):
                    actions.append(.jobFinished(record, result: result, notify: []))
                    for request in notify {
                        actions.append(
                            .fail(
                                client: request.client, requestID: request.requestID, code: .internal,
                                message:
                                    "the job store failed: \(error); job \(record.id) has \(record.state.rawValue) but that may not be on disk, and the job may run again after a restart"
                            ))
                    }
                default:
                    actions.append(action)
                }
            }
        }
    }
}
