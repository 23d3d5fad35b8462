import CZeroMQ

/// What became of a message a ROUTER sent with ``Socket/sendRouted(to:_:)``.
public enum RoutedSendOutcome: Sendable, Equatable {
    /// The message was queued for the peer.
    case sent
    /// The peer's queue is full (its high-water mark): the peer is connected but not reading.
    case queueFull
    /// No connection has that routing identity (any more): the peer disconnected, or its
    /// connection is being torn down.
    case unreachable
}

extension Socket {
    /// Sends `frames` (the whole message after the routing identity; one empty frame when none) to the
    /// peer with routing identity `routingID` on a ROUTER socket, with mandatory routing on for
    /// this one send (`ZMQ_ROUTER_MANDATORY`), so that a peer whose connection is gone is told
    /// apart from one that only reads slowly. Never blocks. The socket's routing is not mandatory
    /// again afterwards.
    public func sendRouted(to routingID: UnsafeRawBufferPointer, _ frames: [[UInt8]]) throws(ZMQError) -> RoutedSendOutcome {
        try setRouterMandatory(true)
        defer { try? setRouterMandatory(false) }
        while zmq_send(handle, routingID.baseAddress, routingID.count, ZMQ_DONTWAIT | ZMQ_SNDMORE) < 0 {
            let code = czmq_errno()
            switch code {
            case EINTR: continue
            case EHOSTUNREACH: return .unreachable
            case EAGAIN: return .queueFull
            default: throw ZMQError(code: code, operation: "zmq_send")
            }
        }
        // libzmq never refuses a later frame of a message it took the first frame of.
        let frames = frames.isEmpty ? [[]] : frames
        for (index, frame) in frames.enumerated() { try send(frame, more: index < frames.count - 1) }
        return .sent
    }
}
