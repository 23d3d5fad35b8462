/// One call queued for the store's thread, kept in arrival order.
enum WorkItem: Sendable {
    /// A `write` call: its changes and its token.
    case write([StoreWrite], token: UInt64)
    /// A `read` call: its query and its token.
    case read(StoreRead, token: UInt64)
}
