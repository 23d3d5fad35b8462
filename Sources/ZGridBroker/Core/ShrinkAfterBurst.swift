import ZGridProtocol

extension Dictionary {
    /// Changes every value in place, given its key. Walked by index: iterating `keys` while
    /// writing through the subscript would keep a second reference to the storage, so the first
    /// write copies the table.
    mutating func updateValues(_ update: (Key, inout Value) -> Void) {
        var index = startIndex
        while index != endIndex {
            update(self[index].key, &values[index])
            formIndex(after: &index)
        }
    }
}

extension BrokerCore {
    /// Shrinks the tables of calls and clients once a burst of calls has drained (at heartbeats).
    mutating func shrinkAfterBurst() {
        calls.shrinkAfterBurst()
        scatters.shrinkAfterBurst()
        scattersByClientKey.shrinkAfterBurst()
        clients.shrinkAfterBurst()
        for client in clients.values { client.calls.shrinkAfterBurst() }
    }
}
