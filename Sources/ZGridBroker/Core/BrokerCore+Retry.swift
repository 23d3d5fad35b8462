import ZGridJobStore
import ZGridProtocol

/// JOB RETRY of a finished job: the job is queued again in memory and handed to the store, and the
/// RETRY is answered once that write has committed (ERROR `INTERNAL` if it fails). The job takes
/// back its keys; one whose replace key another unfinished job holds is not retried. STATUS, CANCEL
/// and RETRY commands on the job that arrive meanwhile are held behind the RETRY and handled after
/// its answer, in arrival order, as if they arrived then: none is answered before the RETRY, nor
/// from a record not yet durable. A WAIT is held on the job as usual; one whose wait passes
/// meanwhile is held behind the RETRY as STATUS, and if the write fails the store answers it.
extension BrokerCore {
    /// Queues the finished job `record` again for the JOB RETRY `request`: answered, and ready to
    /// run, once the write commits.
    mutating func retryJob(_ record: JobRecord, for request: ClientRequest, into actions: inout [BrokerAction]) {
        var record = record
        record.state = .queued
        record.attempts = 0
        record.runAt = wallNow
        record.finishedAt = nil
        record.worker = nil
        record.result = nil
        record.updatedAt = wallNow
        jobs[record.id] = JobEntry(record: record, durable: false, dispatchID: nil)
        // Counted by admission as a submitted job is until its write settles.
        uncommittedJobs[record.id] = record.function
        uncommittedByFunction[record.function, default: 0] += 1
        // Its unique key holds again (unless a newer job took it), so SUBMITs with it coalesce; its
        // replace key (free: see storeRead) too, so a SUBMIT with it supersedes this job.
        if let key = record.uniqueKey, uniqueJobs[key] == nil { uniqueJobs[key] = record.id }
        if let key = record.replaceKey { replaceJobs[key] = record.id }
        // Acknowledged like a submit: ready, and answered, once committed.
        let token = takeToken()
        pendingAcks[token] = [(ClientRequest(client: Self.jobClient, requestID: 0), record.id)]
        pendingRetries[record.id] = PendingRetry(request: request, record: record)
        actions.append(storeWrite([.upsert(record)], token: token))
    }

    /// Holds the JOB command `request` (`verb`) on job `id` behind a RETRY of the job awaiting its
    /// commit; returns whether there is one.
    mutating func holdBehindRetry(_ request: ClientRequest, _ verb: JobVerb, on id: Int64) -> Bool {
        guard pendingRetries[id] != nil, verb != .wait else { return false }
        pendingRetries[id]!.held.append((request, verb))
        return true
    }

    /// The RETRY of job `id` has committed: answers it with the queued record; returns the
    /// commands held behind it, for ``handleHeld(_:on:into:)`` once the commit is taken in.
    mutating func retryCommitted(_ id: Int64, into actions: inout [BrokerAction]) -> [(request: ClientRequest, verb: JobVerb)] {
        guard let retry = pendingRetries.removeValue(forKey: id) else { return [] }
        reply(retry.request, [retry.record.info], into: &actions)
        return retry.held
    }

    /// Handles the JOB commands `held` behind a RETRY of job `id` that has just been answered, in
    /// order, as if they arrived now.
    mutating func handleHeld(_ held: [(request: ClientRequest, verb: JobVerb)], on id: Int64, into actions: inout [BrokerAction]) {
        for (request, verb) in held {
            jobCommand(
                from: request.client, requestID: request.requestID, verb: verb, jobID: UInt64(id), wait: 0, now: lastNow,
                into: &actions)
        }
    }
}
