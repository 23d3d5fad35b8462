import Testing
import ZGridProtocol

@Suite("Id tables keyed by IDKey")
struct IDKeyTests {
    @Test("IDMap stores, changes in place, defaults, removes and walks its entries like a dictionary")
    func map() {
        var map = IDMap<[Int]>()
        #expect(map.isEmpty && map[7] == nil)
        map[7] = [1]
        map[7]?.append(2)
        map[9, default: []].append(3)
        map[UInt64.max] = [4]
        #expect(map.count == 3 && map.contains(9) && !map.contains(8))
        #expect(map[7] == [1, 2] && map[9] == [3] && map[UInt64.max] == [4])
        #expect(Set(map.keys) == [7, 9, UInt64.max])
        #expect(map.values.map(\.count).reduce(0, +) == 4)
        #expect(map.removeValue(forKey: 7) == [1, 2] && map.removeValue(forKey: 7) == nil)
        map[9] = nil
        #expect(map.map(\.key) == [UInt64.max])
        map.removeAll()
        #expect(map.isEmpty)
    }

    @Test("IDSet inserts, removes and walks its ids like a set")
    func set() {
        var set: IDSet = [1, 2]
        #expect(set.insert(3) && !set.insert(3))
        #expect(set.remove(2) == 2 && set.remove(2) == nil)
        #expect(set.contains(1) && !set.contains(2) && set.count == 2)
        #expect(set.sorted() == [1, 3])
    }

    @Test("ids that differ in one bit spread over a dictionary's buckets")
    func spread() {
        // Sequential ids (what the broker hands out) must not pile into a few buckets.
        let hashes = Set((0..<4096).map { IDKey(UInt64($0))._rawHashValue(seed: 0) & 4095 })
        #expect(hashes.count > 2500)
        #expect(IDKey(1)._rawHashValue(seed: 1) != IDKey(1)._rawHashValue(seed: 2))
    }
}
