import ZGridProtocol
import ZeroMQ

/// Collects the requests that one pass of the loop dispatches and sends each worker's together: one
/// REQUESTS message instead of one REQUEST each, to workers that announced
/// ``WorkerCapabilities/batched``. A worker's lone request, or any request to a worker without the
/// capability, still goes as REQUEST. Only requests with exactly one payload frame are held here.
struct RequestBatcher {
    private struct Entry {
        let worker: PeerID
        let dispatchID: UInt64
        let function: String
        let header: CallHeader
        let payload: PayloadHandle
        /// The payload frame's index in the handle's buffer.
        let frame: Int
        /// Whether the frame is handed over (and the handle released) rather than shared.
        let consume: Bool
    }

    private var entries: [Entry] = []
    /// Workers that take REQUESTS.
    private var batchedWorkers: Set<PeerID> = []
    private var workers: [PeerID] = []
    /// The indices in `entries` of one worker's requests (indices: copying an entry costs a retain).
    private var group: [Int] = []
    /// The request table of a REQUESTS being built.
    private var scratch: [UInt8] = []

    /// Whether no request waits.
    var isEmpty: Bool { entries.isEmpty }

    /// Notes whether `worker` takes REQUESTS (from its READY).
    mutating func register(_ worker: PeerID, capabilities: WorkerCapabilities) {
        if capabilities.contains(.batched) { batchedWorkers.insert(worker) } else { batchedWorkers.remove(worker) }
    }

    /// Forgets a worker that left.
    mutating func forget(_ worker: PeerID) {
        batchedWorkers.remove(worker)
    }

    /// Holds a request whose payload is the one frame `frame` of `payload`'s buffer until the next flush.
    mutating func add(
        worker: PeerID, dispatchID: UInt64, function: String, header: CallHeader, payload: PayloadHandle, frame: Int, consume: Bool
    ) {
        entries.append(
            Entry(
                worker: worker, dispatchID: dispatchID, function: function, header: header, payload: payload, frame: frame, consume: consume
            )
        )
    }

    /// Sends every held request, worker by worker in the order the workers first got one.
    mutating func flush(_ socket: borrowing Socket, store: PayloadStore) throws(ZMQError) {
        defer { entries.removeAll(keepingCapacity: true) }
        if entries.count == 1 {
            try sendOne(socket, entries[0], store: store)
            return
        }
        workers.removeAll(keepingCapacity: true)
        for entry in entries where !workers.contains(entry.worker) { workers.append(entry.worker) }
        for worker in workers {
            group.removeAll(keepingCapacity: true)
            for index in entries.indices where entries[index].worker == worker { group.append(index) }
            let perMessage = batchedWorkers.contains(worker) ? BatchedRequest.maxPerMessage : 1
            try BatchedRequest.forEachMessage(of: group.count, perMessage: perMessage) { (index) throws(ZMQError) in
                try sendOne(socket, entries[group[index]], store: store)
            } batch: { (range) throws(ZMQError) in
                try sendMany(socket, worker, group[range], store: store)
            }
        }
    }

    /// One REQUEST message.
    private func sendOne(_ socket: borrowing Socket, _ entry: Entry, store: PayloadStore) throws(ZMQError) {
        let (buffer, _) = store.payload(entry.payload)
        try socket.sendProtocolMessage(
            to: entry.worker, tag: ProtocolTag.worker, command: WorkerCommand.request.rawValue, id: entry.dispatchID,
            function: entry.function, header: entry.header,
            payload: PayloadFrames(buffer, entry.frame..<(entry.frame + 1), consume: entry.consume))
        if entry.consume { store.release(entry.payload) }
    }

    /// One REQUESTS message: the envelope, the request table, then one payload frame per request.
    private mutating func sendMany(
        _ socket: borrowing Socket, _ worker: PeerID, _ group: ArraySlice<Int>, store: PayloadStore
    ) throws(ZMQError) {
        defer { for index in group where entries[index].consume { store.release(entries[index].payload) } }
        // A worker that is gone drops its requests; the core notices when its heartbeats stop.
        guard try socket.sendBatchEnvelope(to: worker, tag: ProtocolTag.worker, command: WorkerCommand.requests.rawValue) else { return }
        scratch.removeAll(keepingCapacity: true)
        for index in group {
            BatchedRequest.encode(
                id: entries[index].dispatchID, header: entries[index].header, function: entries[index].function, into: &scratch)
        }
        try socket.send(scratch, more: true)
        for position in group.indices {
            let entry = group[position]
            let (buffer, _) = store.payload(entries[entry].payload)
            try socket.send(
                frames: entries[entry].frame..<(entries[entry].frame + 1), of: buffer, consume: entries[entry].consume,
                more: position < group.endIndex - 1)
        }
    }
}
