import ZGridProtocol

/// A worker that lost sight of the broker (a broker stalled past the expiry, a cut connection)
/// registers again on a new connection and resumes its earlier session: its calls still running
/// there move to the new connection instead of failing as lost.
extension BrokerCore {
    /// Takes over the session `resume.previous` for `peer` (its new record `worker`, just
    /// registered): each call of the earlier session the worker still runs, still in flight there,
    /// moves to `peer`; the earlier session is then dropped as a lost worker, its other calls
    /// failed or retried as on any loss, and its other job attempts queued again without counting. Every listed dispatch id not moved (the earlier session is
    /// unknown, or that call already ended) is counted in flight on `peer` and cancelled there, so
    /// that the worker stops it and its slot returns with its answer, which is discarded.
    ///
    /// With CURVE on, a session is resumed only by a connection with its CURVE key: a READY naming
    /// a registered session of another key leaves that session as it is, and `peer` stays
    /// registered without resuming anything (``BrokerNotice/resumeRefused(_:previous:)``).
    mutating func resumeSession(
        _ resume: SessionResume, as peer: PeerID, _ worker: WorkerRecord, now: Int64, into actions: inout [BrokerAction]
    ) {
        if let earlier = workers[resume.previous], earlier.curveKey != worker.curveKey {
            actions.append(.notice(.resumeRefused(peer, previous: resume.previous)))
            return
        }
        var cancelled = resume.running
        var moved = 0
        if resume.previous != peer, let earlier = workers[resume.previous] {
            cancelled = []
            for dispatchID in Set(resume.running).sorted() {
                let isJobAttempt = earlier.jobAttempts.contains(dispatchID)
                guard let call = calls[dispatchID], call.worker == resume.previous, earlier.answered(dispatchID) else {
                    cancelled.append(dispatchID)
                    continue
                }
                call.worker = peer
                if isJobAttempt { worker.jobAttempts.insert(dispatchID) }
                if let job = call.job { jobs[job]?.record.worker = peer.description }
                worker.took(dispatchID, sequence: nextSequence)
                nextSequence += 1
                moved += 1
            }
            actions.append(.notice(.sessionResumed(peer, previous: resume.previous, moved: moved, cancelled: cancelled.count)))
            // The job attempts of the earlier session that the worker did not list never reached it
            // (their REQUEST went to the connection it had left, or waited in the stalled broker), or
            // their answer was lost: queued again without counting, as after a restart, instead of
            // failing as lost and dead-lettering a job of one attempt for the broker's own stall.
            droppingResumedSession = true
            loseWorker(resume.previous, reason: "registered again as \(peer)", now: now, into: &actions)
            droppingResumedSession = false
        }
        for dispatchID in cancelled where !worker.inFlight.contains(dispatchID) {
            worker.took(dispatchID, sequence: nextSequence)
            nextSequence += 1
            actions.append(.cancel(worker: peer, dispatchID: dispatchID))
        }
        // Never a new request under an id the worker may still run. Ids from 2^63 on are no broker's
        // (it counts up from 1): counting on from one listed anyway would run out of ids and trap.
        if let highest = resume.running.lazy.filter({ $0 < SessionResume.firstUnusedID }).max(), highest >= nextDispatchID {
            nextDispatchID = highest + 1
        }
    }
}
