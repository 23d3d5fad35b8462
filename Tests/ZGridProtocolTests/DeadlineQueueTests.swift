import Testing
import ZGridProtocol

@Suite("The deadline queue gives entries back earliest first and drops stale ones on a rebuild")
struct DeadlineQueueTests {
    /// Pops every entry of `queue`, in the order it gives them.
    private func drain(_ queue: inout DeadlineQueue<Int>) -> [Int] {
        var popped: [Int] = []
        while let first = queue.min {
            popped.append(first)
            queue.removeMin()
        }
        return popped
    }

    @Test("entries inserted in order, out of order and with ties come back sorted, interleaved with removals")
    func earliestFirst() {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<50 {
            var queue = DeadlineQueue<Int>()
            var expected: [Int] = []
            var next = 0
            for step in 0..<500 {
                // Mostly rising values (one time limit for most work), sometimes an earlier one.
                next += Int.random(in: 0...3, using: &generator)
                let value = step % 7 == round % 7 ? next - Int.random(in: 0...50, using: &generator) : next
                queue.insert(value, live: .max / 4, slack: 0, rebuiltFrom: [Int]())
                expected.append(value)
                if step % 5 == 0, let first = queue.min {
                    #expect(first == expected.min())
                    expected.remove(at: expected.firstIndex(of: first)!)
                    queue.removeMin()
                }
            }
            #expect(queue.count == expected.count)
            #expect(drain(&queue) == expected.sorted())
            #expect(queue.min == nil)
        }
    }

    @Test("once stale entries outnumber the live ones by more than the slack, the queue holds only the live ones")
    func rebuildKeepsLiveEntries() {
        var queue = DeadlineQueue<Int>()
        var live: Set<Int> = []
        for value in 0..<100 {
            // Every third entry stays live; the others end at once and go stale in the queue.
            if value % 3 == 0 { live.insert(value) }
            queue.insert(value, live: live.count, slack: 10, rebuiltFrom: live)
            #expect(queue.count <= 2 * live.count + 10)
        }
        #expect(queue.count < 100, "rebuilt at least once")
        let remaining = drain(&queue)
        #expect(remaining == remaining.sorted())
        #expect(live.isSubset(of: Set(remaining)), "no live entry lost in a rebuild")
    }
}
