import ZGridProtocol

extension ClientLoop {
    /// The most room an empty buffer of one pass (the mailbox's items, the calls to send) keeps
    /// between bursts.
    static let keptBufferCapacity = 4096

    /// Gives memory back once a burst of requests has ended (at heartbeats): the table of requests
    /// waiting for an answer, their deadlines and the buffers of one pass otherwise keep the room
    /// of their largest size for as long as the client lives.
    mutating func shrinkAfterBurst() {
        let capacity = pending.capacity
        pending.shrinkAfterBurst()
        if pending.capacity < capacity {
            deadlines.rebuild(from: pending.lazy.map { Deadline(at: $0.value.timerAt, id: $0.key) })
        }
        awaitingResend.shrinkAfterBurst()
        if inbox.isEmpty && inbox.capacity > Self.keptBufferCapacity { inbox = [] }
        if outgoing.isEmpty && outgoing.capacity > Self.keptBufferCapacity { outgoing = [] }
        if roomQueue.isEmpty && roomQueue.capacity > Self.keptBufferCapacity { roomQueue = [] }
    }
}
