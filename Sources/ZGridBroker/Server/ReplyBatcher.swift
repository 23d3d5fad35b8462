import ZGridProtocol
import ZeroMQ

/// Collects the call results that one pass of the loop produces and sends each client's together:
/// one REPLIES message instead of one REPLY each, to clients that sent CALLS (so understand
/// REPLIES). A client's lone result, or any result to another client, still goes as REPLY. Only
/// results with exactly one payload frame are held here.
struct ReplyBatcher {
    /// One held result. A struct, not a tuple: an array of tuples is emptied through the runtime's
    /// generic tuple destructor, one call per element.
    private struct Entry {
        let client: PeerID
        let requestID: UInt64
        let payload: PayloadHandle
    }

    private var entries: [Entry] = []
    /// Clients that sent CALLS; cleared when it grows past ``maxClients`` (such clients get REPLY
    /// again until their next CALLS).
    private var batchingClients: Set<PeerID> = []
    private var clients: [PeerID] = []
    private var group: [(requestID: UInt64, payload: PayloadHandle)] = []
    /// The request ids of a REPLIES being built.
    private var ids: [UInt8] = []

    /// The most clients remembered as taking REPLIES.
    static let maxClients = 10_000

    /// Whether no result waits.
    var isEmpty: Bool { entries.isEmpty }

    /// Notes that `client` sent CALLS.
    mutating func noteBatching(_ client: PeerID) {
        if batchingClients.count >= Self.maxClients && !batchingClients.contains(client) { batchingClients.removeAll() }
        batchingClients.insert(client)
    }

    /// Holds a result whose payload is one frame until the next flush.
    mutating func add(client: PeerID, requestID: UInt64, payload: PayloadHandle) {
        entries.append(Entry(client: client, requestID: requestID, payload: payload))
    }

    /// Sends every held result, client by client in the order the clients first got one, and gives
    /// the payloads back to `store`.
    mutating func flush(_ socket: borrowing Socket, store: PayloadStore) throws(ZMQError) {
        defer { entries.removeAll(keepingCapacity: true) }
        if entries.count == 1 {
            try sendOne(socket, entries[0].client, entries[0].requestID, entries[0].payload, store: store)
            return
        }
        clients.removeAll(keepingCapacity: true)
        for entry in entries where !clients.contains(entry.client) { clients.append(entry.client) }
        for client in clients {
            group.removeAll(keepingCapacity: true)
            for entry in entries where entry.client == client { group.append((entry.requestID, entry.payload)) }
            let perMessage = batchingClients.contains(client) ? BatchedRequest.maxPerMessage : 1
            try BatchedRequest.forEachMessage(of: group.count, perMessage: perMessage) { (index) throws(ZMQError) in
                try sendOne(socket, client, group[index].requestID, group[index].payload, store: store)
            } batch: { (range) throws(ZMQError) in
                try sendMany(socket, client, group[range], store: store)
            }
        }
    }

    private func sendOne(
        _ socket: borrowing Socket, _ client: PeerID, _ requestID: UInt64, _ payload: PayloadHandle, store: PayloadStore
    ) throws(ZMQError) {
        let (buffer, range) = store.payload(payload)
        try socket.sendProtocolMessage(
            to: client, tag: ProtocolTag.client, command: ClientCommand.reply.rawValue, id: requestID,
            payload: PayloadFrames(buffer, range, consume: true))
        store.release(payload)
    }

    /// One REPLIES message: the envelope, the request ids in one frame, then one payload frame per result.
    private mutating func sendMany(
        _ socket: borrowing Socket, _ client: PeerID, _ group: ArraySlice<(requestID: UInt64, payload: PayloadHandle)>,
        store: PayloadStore
    ) throws(ZMQError) {
        defer { for entry in group { store.release(entry.payload) } }
        // A client that is gone drops its results with it.
        guard try socket.sendBatchEnvelope(to: client, tag: ProtocolTag.client, command: ClientCommand.replies.rawValue) else { return }
        ids.removeAll(keepingCapacity: true)
        for entry in group { ids.appendBigEndian(entry.requestID) }
        try socket.send(ids, more: true)
        for index in group.indices {
            let (buffer, range) = store.payload(group[index].payload)
            try socket.send(frames: range, of: buffer, consume: true, more: index < group.endIndex - 1)
        }
    }
}
