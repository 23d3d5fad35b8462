import Testing
import ZeroMQ

@testable import ZGridBroker

@Suite("The payload store shares one buffer among the payloads of a batched message")
struct PayloadStoreTests {
    @Test("a split buffer returns to the pool only when its last handle is released, and is then reused empty")
    func split() {
        let store = PayloadStore(framesPerMessage: 8)
        let (handle, buffer) = store.checkout()
        for index in 0..<5 { buffer.append([UInt8(index)]) }
        store.setPayloadStart(3, for: handle)
        #expect(store.payload(handle).1 == 3..<5, "a whole message's payload runs to its end")
        let parts = store.split(handle, into: [1..<2, 3..<4])
        #expect(store.held == 1)
        let (first, firstRange) = store.payload(parts[0])
        #expect(first === buffer && firstRange == 1..<2 && first.bytes(1) == [1])
        #expect(store.payload(parts[1]).1 == 3..<4)
        store.release(parts[0])
        #expect(store.held == 1, "the other payload still holds the buffer")
        #expect(store.payload(parts[1]).0.bytes(3) == [3])
        store.release(parts[1])
        #expect(store.held == 0)
        let (again, reused) = store.checkout()
        #expect(reused === buffer && reused.count == 0)
        #expect(store.payload(again).1 == 0..<0)
        store.release(again)
        #expect(store.held == 0)
    }
}
