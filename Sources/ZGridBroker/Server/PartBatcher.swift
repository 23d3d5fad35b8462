import ZGridProtocol
import ZeroMQ

/// Collects the parts of scatters that one pass of the loop produces and sends each scatter's
/// parts together: one PARTS message instead of one PART each, so a client gathering a 16-way
/// scatter wakes a few times instead of sixteen. A lone part, or a part whose payload is not one
/// frame, still goes as PART.
struct PartBatcher {
    private struct Key: Hashable {
        let client: PeerID
        let requestID: UInt64
    }

    private var parts: [Key: [(index: Int, outcome: PartOutcome)]] = [:]
    private var order: [Key] = []

    /// The most parts in one PARTS message (3 + 2 × 64 = 131 frames): clients take messages of up
    /// to 256 frames and drop longer ones whole, so the parts of a wide scatter that end in one
    /// pass go as several PARTS.
    static let maxPartsPerMessage = 64

    /// Whether no part waits.
    var isEmpty: Bool { order.isEmpty }

    /// Holds a part until the next flush.
    mutating func add(client: PeerID, requestID: UInt64, index: Int, outcome: PartOutcome) {
        let key = Key(client: client, requestID: requestID)
        if parts[key] == nil { order.append(key) }
        parts[key, default: []].append((index, outcome))
    }

    /// Sends every held part, scatter by scatter, and gives their payloads back to `store`.
    mutating func flush(_ socket: borrowing Socket, store: PayloadStore) throws(ZMQError) {
        defer {
            parts.removeAll(keepingCapacity: true)
            order.removeAll(keepingCapacity: true)
        }
        for key in order {
            var batch: [(index: Int, outcome: PartOutcome)] = []
            for part in parts[key] ?? [] {
                if case .success(let payload) = part.outcome, store.payload(payload).1.count != 1 {
                    try sendPart(socket, key, part, store: store)
                } else {
                    batch.append(part)
                }
            }
            for start in stride(from: 0, to: batch.count, by: Self.maxPartsPerMessage) {
                let chunk = batch[start..<min(start + Self.maxPartsPerMessage, batch.count)]
                if chunk.count == 1 {
                    try sendPart(socket, key, chunk[start], store: store)
                } else {
                    try sendParts(socket, key, Array(chunk), store: store)
                }
            }
        }
    }

    /// One PART message.
    private func sendPart(_ socket: borrowing Socket, _ key: Key, _ part: (index: Int, outcome: PartOutcome), store: PayloadStore)
        throws(ZMQError)
    {
        switch part.outcome {
        case .success(let payload):
            let (buffer, range) = store.payload(payload)
            try socket.sendProtocolMessage(
                to: key.client, tag: ProtocolTag.client, command: ClientCommand.part.rawValue, id: key.requestID,
                extra: [PartHeader(index: UInt32(part.index), error: nil).encoded], payload: PayloadFrames(buffer, range, consume: true))
            store.release(payload)
        case .failure(let code, let message):
            try socket.sendProtocolMessage(
                to: key.client, tag: ProtocolTag.client, command: ClientCommand.part.rawValue, id: key.requestID,
                extra: [PartHeader(index: UInt32(part.index), error: code).encoded, Array(message.utf8)])
        }
    }

    /// One PARTS message: the envelope, then a header frame and one body frame per part.
    private func sendParts(
        _ socket: borrowing Socket, _ key: Key, _ batch: [(index: Int, outcome: PartOutcome)], store: PayloadStore
    ) throws(ZMQError) {
        defer {
            for part in batch { if case .success(let payload) = part.outcome { store.release(payload) } }
        }
        // A client that is gone drops its parts with it.
        guard try socket.sendBatchEnvelope(to: key.client, tag: ProtocolTag.client, command: ClientCommand.parts.rawValue) else { return }
        try socket.send(.bigEndian(key.requestID), more: true)
        for (position, part) in batch.enumerated() {
            let last = position == batch.count - 1
            switch part.outcome {
            case .success(let payload):
                try socket.send(PartHeader(index: UInt32(part.index), error: nil).encoded, more: true)
                let (buffer, range) = store.payload(payload)
                try socket.send(frames: range, of: buffer, consume: true, more: !last)
            case .failure(let code, let message):
                try socket.send(PartHeader(index: UInt32(part.index), error: code).encoded, more: true)
                try socket.send(Array(message.utf8), more: !last)
            }
        }
    }
}
