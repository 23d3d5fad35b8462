/// A request, dispatch or store id as a hash key.
///
/// Dictionaries and sets keyed by it hash with a seeded multiply–xorshift mix instead of SipHash:
/// the broker and the client look such ids up several times per call.
@frozen
public struct IDKey: Hashable, Sendable {
    /// The id.
    public let id: UInt64

    /// Wraps `id`.
    @inlinable
    public init(_ id: UInt64) { self.id = id }

    /// The hash dictionaries and sets use (see ``PeerID/_rawHashValue(seed:)``).
    @inlinable
    public func _rawHashValue(seed: Int) -> Int { PeerID.mix(id, 0x5851_F42D_4C95_7F2D, seed: seed) }

    /// Feeds the same value as ``_rawHashValue(seed:)`` with seed 0 to `hasher`.
    @inlinable
    public func hash(into hasher: inout Hasher) { hasher.combine(_rawHashValue(seed: 0)) }

    /// Whether two keys hold the same id. Written out to be inlined into the tables of other
    /// modules: the synthesized one is a call per probe.
    @inlinable
    public static func == (lhs: IDKey, rhs: IDKey) -> Bool { lhs.id == rhs.id }
}

/// A dictionary from ids to `Value`, keyed by ``IDKey``: the subset of `Dictionary`'s interface
/// that id tables use, taking and giving plain `UInt64` ids.
@frozen
public struct IDMap<Value>: Sequence {
    @usableFromInline var storage: [IDKey: Value]

    /// An empty table.
    @inlinable
    public init() { storage = [:] }

    /// The value for `id`, nil when there is none; setting nil removes it.
    @inlinable
    public subscript(id: UInt64) -> Value? {
        get { storage[IDKey(id)] }
        _modify { yield &storage[IDKey(id)] }
    }

    /// The value for `id`, or `defaultValue` (inserted on write) when there is none.
    @inlinable
    public subscript(id: UInt64, default defaultValue: @autoclosure () -> Value) -> Value {
        get { storage[IDKey(id), default: defaultValue()] }
        _modify { yield &storage[IDKey(id), default: defaultValue()] }
    }

    /// Removes and returns the value for `id`.
    @inlinable
    @discardableResult
    public mutating func removeValue(forKey id: UInt64) -> Value? { storage.removeValue(forKey: IDKey(id)) }

    /// Sets the value for `id` and returns the one it replaced, if any.
    @inlinable
    @discardableResult
    public mutating func updateValue(_ value: Value, forKey id: UInt64) -> Value? { storage.updateValue(value, forKey: IDKey(id)) }

    /// Removes every entry.
    @inlinable
    public mutating func removeAll() { storage.removeAll() }

    /// How many entries the table holds.
    @inlinable
    public var count: Int { storage.count }

    /// Whether the table is empty.
    @inlinable
    public var isEmpty: Bool { storage.isEmpty }

    /// How many entries the table holds room for.
    @inlinable
    public var capacity: Int { storage.capacity }

    /// The values, in no particular order.
    @inlinable
    public var values: Dictionary<IDKey, Value>.Values { storage.values }

    /// The ids, in no particular order.
    @inlinable
    public var keys: LazyMapSequence<Dictionary<IDKey, Value>.Keys, UInt64> { storage.keys.lazy.map(\.id) }

    /// Whether the table holds a value for `id`.
    @inlinable
    public func contains(_ id: UInt64) -> Bool { storage.index(forKey: IDKey(id)) != nil }

    /// Gives memory back after a burst (see ``Swift/Dictionary/shrinkAfterBurst(slack:)``).
    public mutating func shrinkAfterBurst(slack: Int = 4096) { storage.shrinkAfterBurst(slack: slack) }

    /// Walks the entries as (id, value) pairs, in no particular order.
    @inlinable
    public func makeIterator() -> Iterator { Iterator(base: storage.makeIterator()) }

    /// Walks an ``IDMap``.
    @frozen
    public struct Iterator: IteratorProtocol {
        @usableFromInline var base: Dictionary<IDKey, Value>.Iterator

        @inlinable
        init(base: Dictionary<IDKey, Value>.Iterator) { self.base = base }

        /// The next entry.
        @inlinable
        public mutating func next() -> (key: UInt64, value: Value)? {
            base.next().map { (key: $0.key.id, value: $0.value) }
        }
    }
}

extension IDMap: Sendable where Value: Sendable {}

/// A set of ids, keyed by ``IDKey``: the subset of `Set`'s interface that id sets use.
@frozen
public struct IDSet: Sequence, Sendable, ExpressibleByArrayLiteral {
    @usableFromInline var storage: Set<IDKey>

    /// An empty set.
    @inlinable
    public init() { storage = [] }

    /// A set of `ids`.
    @inlinable
    public init(arrayLiteral ids: UInt64...) { storage = Set(ids.map(IDKey.init)) }

    /// Adds `id`; returns whether it was new.
    @inlinable
    @discardableResult
    public mutating func insert(_ id: UInt64) -> Bool { storage.insert(IDKey(id)).inserted }

    /// Removes `id`; returns it when it was there.
    @inlinable
    @discardableResult
    public mutating func remove(_ id: UInt64) -> UInt64? { storage.remove(IDKey(id))?.id }

    /// Whether `id` is in the set.
    @inlinable
    public func contains(_ id: UInt64) -> Bool { storage.contains(IDKey(id)) }

    /// How many ids the set holds.
    @inlinable
    public var count: Int { storage.count }

    /// Whether the set is empty.
    @inlinable
    public var isEmpty: Bool { storage.isEmpty }

    /// How many ids the set holds room for.
    @inlinable
    public var capacity: Int { storage.capacity }

    /// Gives memory back after a burst (see ``Swift/Dictionary/shrinkAfterBurst(slack:)``).
    public mutating func shrinkAfterBurst(slack: Int = 4096) { storage.shrinkAfterBurst(slack: slack) }

    /// Walks the ids, in no particular order.
    @inlinable
    public func makeIterator() -> LazyMapSequence<Set<IDKey>, UInt64>.Iterator { storage.lazy.map(\.id).makeIterator() }
}
