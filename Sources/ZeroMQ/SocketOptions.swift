import CZeroMQ

extension Socket {
    /// Sets an integer socket option by its libzmq number.
    public func setOption(_ option: Int32, _ value: Int32) throws(ZMQError) {
        var value = value
        guard zmq_setsockopt(handle, option, &value, MemoryLayout<Int32>.size) == 0 else {
            throw ZMQError.last("setsockopt \(option)")
        }
    }

    /// Sets a 64-bit integer socket option by its libzmq number.
    public func setOption(_ option: Int32, int64 value: Int64) throws(ZMQError) {
        var value = value
        guard zmq_setsockopt(handle, option, &value, MemoryLayout<Int64>.size) == 0 else {
            throw ZMQError.last("setsockopt \(option)")
        }
    }

    /// Sets a binary socket option by its libzmq number.
    public func setOption(_ option: Int32, bytes: [UInt8]) throws(ZMQError) {
        let status = bytes.withUnsafeBytes { zmq_setsockopt(handle, option, $0.baseAddress, $0.count) }
        guard status == 0 else { throw ZMQError.last("setsockopt \(option)") }
    }

    /// How long a close waits to deliver queued messages (`ZMQ_LINGER`); 0 drops them.
    public func setLinger(milliseconds: Int32) throws(ZMQError) { try setOption(ZMQ_LINGER, milliseconds) }

    /// The queue bound per peer for outgoing messages (`ZMQ_SNDHWM`).
    public func setSendHighWaterMark(_ messages: Int32) throws(ZMQError) { try setOption(ZMQ_SNDHWM, messages) }

    /// The queue bound per peer for incoming messages (`ZMQ_RCVHWM`).
    public func setReceiveHighWaterMark(_ messages: Int32) throws(ZMQError) { try setOption(ZMQ_RCVHWM, messages) }

    /// The largest frame accepted from a peer; a peer sending more is disconnected (`ZMQ_MAXMSGSIZE`).
    public func setMaxMessageSize(_ bytes: Int64) throws(ZMQError) { try setOption(ZMQ_MAXMSGSIZE, int64: bytes) }

    /// The identity this socket presents to a ROUTER peer (`ZMQ_ROUTING_ID`).
    public func setRoutingID(_ id: [UInt8]) throws(ZMQError) { try setOption(ZMQ_ROUTING_ID, bytes: id) }

    /// Queue messages only to completed connections (`ZMQ_IMMEDIATE`).
    public func setImmediate(_ on: Bool) throws(ZMQError) { try setOption(ZMQ_IMMEDIATE, Int32(on ? 1 : 0)) }

    /// The initial and maximum reconnect intervals (`ZMQ_RECONNECT_IVL`, `ZMQ_RECONNECT_IVL_MAX`).
    public func setReconnectInterval(milliseconds: Int32, max: Int32 = 0) throws(ZMQError) {
        try setOption(ZMQ_RECONNECT_IVL, milliseconds)
        try setOption(ZMQ_RECONNECT_IVL_MAX, max)
    }

    /// Report unroutable ROUTER sends as failures instead of dropping them (`ZMQ_ROUTER_MANDATORY`).
    public func setRouterMandatory(_ on: Bool) throws(ZMQError) { try setOption(ZMQ_ROUTER_MANDATORY, Int32(on ? 1 : 0)) }

    /// Turns TCP keep-alive probes on or off (`ZMQ_TCP_KEEPALIVE`).
    public func setTCPKeepAlive(_ on: Bool) throws(ZMQError) { try setOption(ZMQ_TCP_KEEPALIVE, Int32(on ? 1 : 0)) }
}
