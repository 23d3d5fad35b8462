import CZeroMQ

/// A CURVE key pair in Z85 text (40 characters each), as libzmq uses them.
public struct CurveKeyPair: Sendable, Equatable {
    /// The public key, shared with peers.
    public let publicKey: String
    /// The secret key, kept private.
    public let secretKey: String

    /// Creates a pair from Z85 text; nil when either is not a valid 40-character Z85 key.
    public init?(publicKey: String, secretKey: String) {
        guard Curve.isValidKey(publicKey), Curve.isValidKey(secretKey) else { return nil }
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// A new random key pair (`zmq_curve_keypair`).
    public static func generate() throws(ZMQError) -> CurveKeyPair {
        var publicKey = [CChar](repeating: 0, count: 41)
        var secretKey = [CChar](repeating: 0, count: 41)
        guard zmq_curve_keypair(&publicKey, &secretKey) == 0 else { throw ZMQError.last("zmq_curve_keypair") }
        return CurveKeyPair(publicKey: Curve.text(publicKey), secretKey: Curve.text(secretKey))!
    }
}

/// CURVE helpers.
public enum Curve {
    /// Whether `key` is a 40-character Z85 text that decodes to 32 bytes.
    public static func isValidKey(_ key: String) -> Bool {
        guard key.utf8.count == 40 else { return false }
        var decoded = [UInt8](repeating: 0, count: 32)
        return zmq_z85_decode(&decoded, key) != nil
    }

    /// The public key that belongs to the Z85 secret key `secretKey` (`zmq_curve_public`); nil
    /// when it is not a valid key.
    public static func publicKey(forSecret secretKey: String) -> String? {
        guard isValidKey(secretKey) else { return nil }
        var publicKey = [CChar](repeating: 0, count: 41)
        guard zmq_curve_public(&publicKey, secretKey) == 0 else { return nil }
        return text(publicKey)
    }

    /// The Z85 text of a 32-byte key (as ZAP hands it over).
    public static func z85(_ key: [UInt8]) -> String? {
        guard key.count == 32 else { return nil }
        var text = [CChar](repeating: 0, count: 41)
        guard zmq_z85_encode(&text, key, 32) != nil else { return nil }
        return Self.text(text)
    }

    /// The 40-character Z85 text libzmq wrote into `chars` (41 bytes, NUL-terminated).
    static func text(_ chars: [CChar]) -> String {
        String(decoding: chars.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension Socket {
    /// Makes this socket a CURVE server with `secretKey` (set before bind).
    public func makeCurveServer(secretKey: String, domain: String = "zgrid") throws(ZMQError) {
        try setOption(ZMQ_CURVE_SERVER, Int32(1))
        try setOption(ZMQ_CURVE_SECRETKEY, bytes: Array(secretKey.utf8))
        try setOption(ZMQ_ZAP_DOMAIN, bytes: Array(domain.utf8))
    }

    /// Makes this socket a CURVE client of a server with `serverKey` (set before connect).
    public func makeCurveClient(serverKey: String, keys: CurveKeyPair) throws(ZMQError) {
        try setOption(ZMQ_CURVE_SERVERKEY, bytes: Array(serverKey.utf8))
        try setOption(ZMQ_CURVE_PUBLICKEY, bytes: Array(keys.publicKey.utf8))
        try setOption(ZMQ_CURVE_SECRETKEY, bytes: Array(keys.secretKey.utf8))
    }

    /// Reports this socket's lost connections, and its connections whose handshake succeeded or
    /// failed, on a PAIR socket at `endpoint` (`zmq_socket_monitor`); ``MonitorEvent/init(_:)``
    /// reads them.
    public func monitorConnections(on endpoint: String) throws(ZMQError) {
        let events =
            ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
            | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
        guard zmq_socket_monitor(handle, endpoint, Int32(events)) == 0 else { throw ZMQError.last("zmq_socket_monitor \(endpoint)") }
    }

    /// A PAIR socket that receives this socket's connection events (see
    /// ``monitorConnections(on:)``), at a fresh inproc endpoint named after `label`. When the
    /// monitor cannot be set up, the returned socket stays silent.
    public func connectionEvents(_ context: Context, label: String) throws(ZMQError) -> Socket {
        let events = try Socket(context, type: .pair)
        let endpoint = "inproc://\(label)-\(UInt64.random(in: 0...UInt64.max))"
        if (try? monitorConnections(on: endpoint)) != nil { try? events.connect(endpoint) }
        return events
    }

    /// Reports this socket's handshake failures on a PAIR socket at `endpoint` (`zmq_socket_monitor`).
    public func monitorHandshakeFailures(on endpoint: String) throws(ZMQError) {
        let events = ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
        guard zmq_socket_monitor(handle, endpoint, Int32(events)) == 0 else { throw ZMQError.last("zmq_socket_monitor \(endpoint)") }
    }
}

/// A connection event read from a socket monitor (see ``Socket/monitorConnections(on:)``).
public enum MonitorEvent: Sendable, Equatable {
    /// A connection's handshake succeeded: messages can flow on it.
    case handshakeSucceeded
    /// A connection was lost.
    case disconnected
    /// A connection's handshake failed: `refusedKey` when the server's authentication (ZAP)
    /// refused this socket's key, otherwise for another reason (such as a wrong server key, or a
    /// security mechanism on one side only).
    case handshakeFailed(refusedKey: Bool)
    /// Another event.
    case other

    /// The event in a monitor message received into `message` (its first frame: a 16-bit event
    /// number, then a 32-bit value, in the machine's byte order).
    public init(_ message: Multipart) {
        let number = message.count > 0 ? message.withBytes(0) { $0.count >= 2 ? Int32($0.loadUnaligned(as: UInt16.self)) : 0 } : 0
        switch number {
        case Int32(ZMQ_EVENT_HANDSHAKE_SUCCEEDED): self = .handshakeSucceeded
        case Int32(ZMQ_EVENT_DISCONNECTED): self = .disconnected
        case Int32(ZMQ_EVENT_HANDSHAKE_FAILED_AUTH): self = .handshakeFailed(refusedKey: true)
        case Int32(ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL), Int32(ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL):
            self = .handshakeFailed(refusedKey: false)
        default: self = .other
        }
    }
}

extension Multipart {
    /// A metadata property of frame `index`, such as `"User-Id"` set by the ZAP handler.
    public func property(_ index: Int, _ name: String) -> String? {
        guard let value = zmq_msg_gets(frame(index), name) else { return nil }
        return String(cString: value)
    }
}
