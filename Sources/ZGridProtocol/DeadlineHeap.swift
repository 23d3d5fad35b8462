import HeapModule

extension Heap {
    /// Inserts a deadline into a heap whose entries for finished work are skipped lazily when they
    /// come up. When such stale entries make the heap more than twice as large as the `live` work
    /// (plus `slack`), it is rebuilt from `live entries` alone, so under a steady load it holds
    /// about as many entries as work in flight, not everything of the last time-limit window.
    @inlinable
    public mutating func insert<Live: Sequence<Element>>(
        _ element: Element, live count: Int, slack: Int, rebuiltFrom live: @autoclosure () -> Live
    ) {
        insert(element)
        guard self.count > 2 * count + slack else { return }
        self = Heap(live())
    }
}
