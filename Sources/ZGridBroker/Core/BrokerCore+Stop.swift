import ZGridProtocol

extension BrokerCore {
    /// From now on new work is refused (the shell answers new calls, scatters and jobs with
    /// `shuttingDown`): calls queued for a function that has no worker fail at once as shutting
    /// down, now and whenever a function's last worker leaves, instead of after the grace period
    /// for unknown functions. Calls that have workers still run.
    public mutating func refuseNewWork(now: Int64, into actions: inout [BrokerAction]) {
        guard !refusingNewWork else { return }
        refusingNewWork = true
        failCallsWithoutWorkers(now: now, into: &actions)
    }

    /// The broker stops with calls still in flight (its shutdown grace ran out): answers every
    /// call and scatter with `shuttingDown` and asks the workers running them to cancel, so that
    /// callers learn it at once instead of by heartbeat silence. Job attempts are left as they
    /// are: the job store still lists them as running, and they run again once their lease runs
    /// out after the broker starts again.
    mutating func abandonCallsAtStop(into actions: inout [BrokerAction]) {
        let text = "the broker stopped before the call finished"
        for scatterID in scatters.keys.sorted() {
            guard let scatter = scatters[scatterID] else { continue }
            closeScatter(scatterID, answer: false, into: &actions)
            actions.append(.fail(client: scatter.client, requestID: scatter.requestID, code: .shuttingDown, message: text))
        }
        for dispatchID in calls.keys.sorted() {
            guard let call = calls[dispatchID], call.scatter == nil, call.job == nil, call.batch == nil else { continue }
            if let worker = call.worker { actions.append(.cancel(worker: worker, dispatchID: dispatchID)) }
            failCall(dispatchID, .shuttingDown, text, into: &actions)
        }
    }
}
