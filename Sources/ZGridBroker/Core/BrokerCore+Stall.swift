/// The broker's own stalls: time in which its loop did not run (the process was stopped, or
/// starved of CPU) is not counted against its peers, who could not be heard meanwhile.
extension BrokerCore {
    /// The longest gap between two ticks of a broker that runs: the loop ticks at least once per
    /// heartbeat interval, so a gap of more than two means it did not run.
    var stallThresholdMilliseconds: Int64 { 2 * options.heartbeat.intervalMilliseconds }

    /// Called first on every tick: when the previous tick was more than
    /// ``stallThresholdMilliseconds`` ago, the broker stalled and heard nobody meanwhile, so every
    /// worker and client gets a fresh expiry from `now`, and for one expiry a closed connection
    /// does not make a worker lost at once (a worker that gave up on the silent broker has
    /// reconnected under a new identity, and its READY is about to take its calls over; see
    /// ``resumeSession(_:as:_:now:into:)``). Deadlines of calls and job attempts are not moved.
    mutating func forgiveOwnStall(now: Int64, into actions: inout [BrokerAction]) {
        let gap = now - lastTickAt
        lastTickAt = now
        // With no peer there is nothing to forgive (a slow start, such as a long job recovery, is no stall).
        guard options.forgivesOwnStalls, gap > stallThresholdMilliseconds, !workers.isEmpty || !clients.isEmpty else { return }
        for worker in workers.values { worker.lastSeen = max(worker.lastSeen, now) }
        for client in clients.values { client.lastSeen = max(client.lastSeen, now) }
        connectionLossIgnoredUntil = now + options.heartbeat.expiryMilliseconds
        actions.append(.notice(.stalled(milliseconds: gap)))
    }

    /// Called by the loop as soon as it wakes, before it reads anything: a stall is noticed (as by
    /// ``forgiveOwnStall(now:into:)``) before the messages that waited during it are handled, and
    /// before a send to a worker whose connection closed meanwhile finds it gone. The next tick
    /// would notice it too late for those. Does nothing when the last tick is recent.
    public mutating func noticeOwnStall(now: Int64, into actions: inout [BrokerAction]) {
        guard now - lastTickAt > stallThresholdMilliseconds else { return }
        forgiveOwnStall(now: now, into: &actions)
    }
}
