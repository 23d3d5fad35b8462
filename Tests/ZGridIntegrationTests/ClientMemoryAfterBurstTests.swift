import Testing
import ZGridProtocol

@testable import ZGridClient

extension IntegrationTests {
    @Suite("The client gives memory back after a burst")
    struct ClientMemoryAfterBurstTests {
        @Test("once a burst of 50,000 requests has ended, the tables of the ones waiting shrink and keep those still waiting")
        func tablesShrink() throws {
            var loop = ClientLoop(
                broker: "tcp://127.0.0.1:1", heartbeat: testHeartbeat, security: nil, mailbox: try Mailbox(),
                executor: try LoopExecutor(), connected: ConnectOutcome(), ids: RequestIDs(), logger: quietLogger("test.client"))
            let sink = ScatterSink(AsyncThrowingStream<ScatterEvent, any Error>.makeStream().continuation)
            for id in UInt64(1)...50_000 {
                let waiting = ClientLoop.Pending(waiter: .scatter(sink, startedAt: 0), deadline: Int64(id), sentAt: 0)
                loop.pending[id] = waiting
                loop.insertDeadline(ClientLoop.Deadline(at: waiting.timerAt, id: id))
                loop.awaitingResend.insert(id)
            }
            loop.inbox.reserveCapacity(50_000)
            loop.outgoing.reserveCapacity(50_000)
            loop.roomQueue.reserveCapacity(50_000)
            let burst = loop.pending.capacity
            for id in UInt64(6)...50_000 {
                loop.pending[id] = nil
                loop.awaitingResend.remove(id)
            }
            #expect(loop.deadlines.count == 50_000, "answered requests' deadlines stay until they come up")

            loop.shrinkAfterBurst()
            #expect(loop.pending.capacity < burst / 10)
            #expect(Set(loop.pending.map(\.key)) == Set(1...5))
            #expect(loop.deadlines.count == 5 && loop.deadlines.min?.id == 1)
            #expect(loop.awaitingResend.capacity < burst / 10 && loop.awaitingResend == Set(1...5))
            #expect(loop.inbox.capacity <= ClientLoop.keptBufferCapacity && loop.outgoing.capacity <= ClientLoop.keptBufferCapacity)
            #expect(loop.roomQueue.capacity <= ClientLoop.keptBufferCapacity, "the line of calls that waited for room")
        }
    }
}
