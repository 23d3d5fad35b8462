import Synchronization
import ZGridProtocol
import ZeroMQ

extension ClientLoop {
    /// Hands each run's outcomes of this pass to its consumer, queues the calls its window lets
    /// out (sent with the other calls of the pass), and ends the runs that are complete.
    mutating func advancePipelines() {
        let now = MonotonicClock.nowMilliseconds()
        for run in pipelines {
            // A run takes room in the broker's limit of calls in flight only when no call or
            // scatter waits for it.
            while hasRoom, let (slot, deadline) = run.nextCall(now: now) {
                if let error = oversized(slot.payload.count) {
                    run.record(slot, .failure(error))
                    continue
                }
                let id = ids.next()
                let call = Pending(waiter: .pipeline(run, slot), deadline: deadline, sentAt: now, countsInFlight: true)
                pending[id] = call
                insertDeadline(Deadline(at: call.timerAt, id: id))
                let header = CallHeader(flags: run.flags, priority: run.priority, timeoutMilliseconds: UInt32(max(1, deadline - now)))
                send(OutgoingCall(id: id, function: run.function, header: header, payload: slot.payload))
            }
            run.flush()
            if run.isComplete { run.finish() }
        }
        pipelines.removeAll { $0.finished }
    }

    /// Stops run `id` at its consumer's request: its calls still in the grid are cancelled there.
    mutating func stopPipeline(_ id: UInt64, _ socket: borrowing Socket) throws(ZMQError) {
        guard let index = pipelines.firstIndex(where: { $0.id == id }) else { return }
        let run = pipelines.remove(at: index)
        run.finish(throwing: .cancelled)
        let calls = pending.compactMap { entry -> UInt64? in
            if case .pipeline(let owner, _) = entry.value.waiter, owner === run { return entry.key }
            return nil
        }
        for call in calls {
            pending[call] = nil
            try socket.sendProtocolMessage(tag: ProtocolTag.client, command: ClientCommand.cancel.rawValue, id: call)
        }
    }
}

/// A call on its way to the broker in the next CALL or CALLS.
struct OutgoingCall {
    let id: UInt64
    let function: String
    let header: CallHeader
    let payload: [UInt8]
}

/// The source of a client's request ids, shared by its calling tasks and its I/O thread.
final class RequestIDs: Sendable {
    private let counter = Atomic<UInt64>(1)

    /// A new id.
    func next() -> UInt64 { counter.wrappingAdd(1, ordering: .relaxed).oldValue }
}
