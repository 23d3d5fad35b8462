import ZGridProtocol

/// When a silent worker counts as lost: by the expiry alone for a worker that heartbeats always,
/// and not while it runs a call for one that heartbeats only while idle (see ``WorkerHeartbeats``).
extension BrokerCore {
    /// Whether `worker` (its record, `peer`'s) has been silent for longer than the expiry at `now`
    /// and is to be declared lost.
    ///
    /// A worker that heartbeats only while idle is not expired while one of its calls runs on it:
    /// the call's deadline bounds the wait (a call that ended by deadline or cancel stays in the
    /// worker's in-flight set until a late answer, but no longer counts as running). Then its
    /// silence counts from its last message or from the end of its last call, whichever is later.
    /// After its own DISCONNECT it is held to the plain expiry: it will not answer.
    func isExpired(_ peer: PeerID, _ worker: WorkerRecord, now: Int64) -> Bool {
        let expiry = options.heartbeat.expiryMilliseconds
        guard now - worker.lastSeen > expiry else { return false }
        guard worker.heartbeats == .whileIdle, !worker.saidDisconnect else { return true }
        if isRunningCall(peer, worker) { return false }
        return now - worker.lastCallEndedAt > expiry
    }

    /// Whether a call runs on `worker` (its record, `peer`'s): one of its in-flight dispatch ids
    /// names a call that has not ended and is still assigned to it.
    func isRunningCall(_ peer: PeerID, _ worker: WorkerRecord) -> Bool {
        worker.inFlight.contains { calls[$0]?.worker == peer }
    }

    /// Records that a call running on `peer` ended at `now` (answered, or ended by deadline,
    /// cancel or its client's loss): for a worker that heartbeats only while idle, its silence
    /// counts from then at the latest.
    func noteCallLeft(_ peer: PeerID, now: Int64) {
        guard let worker = workers[peer], worker.heartbeats == .whileIdle else { return }
        worker.lastCallEndedAt = max(worker.lastCallEndedAt, now)
    }
}
