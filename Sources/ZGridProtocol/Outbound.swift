import ZeroMQ

/// Payload frames to append to an outgoing message: frames `range` of `message`, handed to libzmq
/// without a copy when `consume` is true, shared (`zmq_msg_copy`) otherwise.
public struct PayloadFrames {
    /// The buffer holding the frames.
    public let message: Multipart
    /// Which frames of the buffer to send.
    public let range: Range<Int>
    /// Whether the frames are given away (the buffer's copies become empty).
    public let consume: Bool

    /// Names frames to send.
    public init(_ message: Multipart, _ range: Range<Int>, consume: Bool) {
        self.message = message
        self.range = range
        self.consume = consume
    }
}

extension Socket {
    /// Sends one protocol message: `[peer][tag][command][id][function][header][extra…][payload…]`,
    /// leaving out the parts that are nil. Never blocks: returns false when the socket would
    /// have blocked on the first frame or the peer is unknown (the message is then dropped).
    @discardableResult
    public func sendProtocolMessage(
        to peer: PeerID? = nil,
        tag: [UInt8],
        command: UInt8,
        id: UInt64? = nil,
        function: String? = nil,
        header: CallHeader? = nil,
        extra: [[UInt8]] = [],
        payload: PayloadFrames? = nil
    ) throws(ZMQError) -> Bool {
        let hasPayload = payload.map { !$0.range.isEmpty } ?? false
        if let peer {
            let sent = try peer.withBytes { (raw) throws(ZMQError) -> Bool in try send(raw, more: true) }
            guard sent else { return false }
            guard try send(tag, more: true) else { return false }
        } else {
            guard try send(tag, more: true) else { return false }
        }
        var command = command
        let moreAfterCommand = id != nil || function != nil || header != nil || !extra.isEmpty || hasPayload
        try withUnsafeBytes(of: &command) { (raw) throws(ZMQError) in _ = try send(raw, more: moreAfterCommand) }
        if let id {
            var big = id.bigEndian
            let more = function != nil || header != nil || !extra.isEmpty || hasPayload
            try withUnsafeBytes(of: &big) { (raw) throws(ZMQError) in _ = try send(raw, more: more) }
        }
        if let function {
            try send(function, more: header != nil || !extra.isEmpty || hasPayload)
        }
        if let header {
            try send(header.encoded, more: !extra.isEmpty || hasPayload)
        }
        for (index, frame) in extra.enumerated() {
            try send(frame, more: index < extra.count - 1 || hasPayload)
        }
        if let payload, hasPayload {
            try send(frames: payload.range, of: payload.message, consume: payload.consume)
        }
        return true
    }
}

extension Socket {
    /// Sends the envelope of a batched message, `[peer][tag][command]`, each frame followed by more;
    /// its pairs follow. Returns false when the peer is unknown or the socket would block (nothing
    /// was sent).
    public func sendBatchEnvelope(to peer: PeerID? = nil, tag: [UInt8], command: UInt8) throws(ZMQError) -> Bool {
        if let peer {
            guard try peer.withBytes({ (raw) throws(ZMQError) -> Bool in try send(raw, more: true) }) else { return false }
            try send(tag, more: true)
        } else {
            guard try send(tag, more: true) else { return false }
        }
        var command = command
        try withUnsafeBytes(of: &command) { (raw) throws(ZMQError) in _ = try send(raw, more: true) }
        return true
    }
}

extension ErrorCode {
    /// The two-byte wire form.
    public var encoded: [UInt8] { .bigEndian(rawValue) }
}
