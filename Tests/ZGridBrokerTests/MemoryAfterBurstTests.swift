import Testing
import ZGridProtocol

@testable import ZGridBroker

@Suite("The broker's tables give memory back after a burst")
struct MemoryAfterBurstTests {
    @Test("a mostly empty dictionary or set shrinks and keeps its entries; a busy one is left alone")
    func shrink() {
        var table = Dictionary(uniqueKeysWithValues: (0..<100_000).map { ($0, $0 * 2) })
        for key in 10..<100_000 { table[key] = nil }
        let before = table.capacity
        table.shrinkAfterBurst()
        #expect(table.capacity < before / 10)
        #expect(table == Dictionary(uniqueKeysWithValues: (0..<10).map { ($0, $0 * 2) }))
        var busy = Dictionary(uniqueKeysWithValues: (0..<10_000).map { ($0, $0) })
        let busyCapacity = busy.capacity
        busy.shrinkAfterBurst()
        #expect(busy.capacity == busyCapacity)
        var set = IDSet()
        for id in UInt64(0)..<50_000 { set.insert(id) }
        for id in UInt64(5)..<50_000 { set.remove(id) }
        set.shrinkAfterBurst()
        #expect(Set(set) == Set(0..<5) && set.capacity < 5_000)
        var map = IDMap<UInt64>()
        for id in UInt64(0)..<50_000 { map[id] = id * 3 }
        for id in UInt64(5)..<50_000 { map[id] = nil }
        map.shrinkAfterBurst()
        #expect(map.capacity < 5_000)
        #expect(Dictionary(uniqueKeysWithValues: map.map { ($0.key, $0.value) }) == [0: 0, 1: 3, 2: 6, 3: 9, 4: 12])
    }

    @Test("after 8,000 calls have been answered, the next heartbeat tick shrinks the call tables")
    func callTablesShrinkAtTick() throws {
        var driver = Driver()
        driver.ready(worker1, concurrency: 20_000)
        var requests: [SentRequest] = []
        for requestID in UInt64(1)...8_000 { requests += driver.call(client1, requestID, timeout: 60_000).requests }
        #expect(requests.count == 8_000)
        let burstCapacity = driver.core.calls.capacity
        for request in requests.dropFirst() { driver.reply(worker1, request.dispatchID) }
        driver.heartbeat(worker: worker1)
        driver.heartbeat(client: client1)
        driver.tick(after: 1_000)
        #expect(driver.core.callsInFlight == 1)
        #expect(driver.core.calls.capacity < burstCapacity / 4)
        #expect(driver.core.clients[client1]!.calls.capacity < burstCapacity / 4)
        #expect(driver.reply(worker1, requests[0].dispatchID).replies.map(\.requestID) == [1], "the live call is kept")
    }
}
