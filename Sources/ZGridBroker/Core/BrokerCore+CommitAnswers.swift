import ZGridJobStore
import ZGridProtocol

/// Answers held until a store write commits. A JOB CANCEL is answered (and the WAITs it ends, and
/// its `cancelled` event published) only once the job's cancelled record is durable, as a SUBMIT is
/// acknowledged only once its job is: a broker killed before the commit leaves the job as the store
/// had it, and no client was told it was cancelled.
extension BrokerCore {
    /// Hands the cancelled `record` to the store, and holds until that write commits its
    /// `cancelled` event and a JOB-REPLY with it to each of `requests`.
    mutating func writeCancel(_ record: JobRecord, answering requests: [ClientRequest], into actions: inout [BrokerAction]) {
        let token = takeToken()
        actions.append(.storeWrite([.upsert(record)], token: token))
        var held = [jobEvent(.cancelled, record, worker: record.worker, attempt: record.attempts, error: record.lastError)]
        for request in requests where request.client != Self.jobClient {
            held.append(.jobReply(client: request.client, requestID: request.requestID, answer: JobAnswer(jobs: [record.info])))
        }
        answerAtCommit(token, held)
    }

    /// Holds `held` (answers and events) until the store write with `token` commits.
    mutating func answerAtCommit(_ token: UInt64, _ held: [BrokerAction]) {
        guard !held.isEmpty else { return }
        answersAtCommit[token, default: []] += held
    }

    /// The store failed a write: every held answer may stand for a write that is not on disk, so
    /// each JOB-REPLY becomes ERROR `INTERNAL`. The events go out: the jobs are cancelled in this
    /// broker's memory and do not run again before a restart.
    mutating func failAnswersAtCommit(_ error: JobStoreError, into actions: inout [BrokerAction]) {
        for (_, held) in answersAtCommit.sorted(by: { $0.key < $1.key }) {
            for action in held {
                guard case .jobReply(let client, let requestID, _) = action else {
                    actions.append(action)
                    continue
                }
                actions.append(
                    .fail(
                        client: client, requestID: requestID, code: .internal,
                        message: "the job store failed: \(error); the cancel may not be on disk, and the job may run after a restart"))
            }
        }
        answersAtCommit.removeAll()
    }
}
