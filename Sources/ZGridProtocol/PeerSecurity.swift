import ZeroMQ

/// CURVE settings of a client or worker: the broker's public key and this peer's own key pair.
public struct PeerSecurity: Sendable, Equatable {
    /// The broker's public key (Z85).
    public var serverKey: String
    /// This peer's key pair; its public key must be listed at the broker for the peer's role.
    public var keys: CurveKeyPair

    /// Creates settings.
    public init(serverKey: String, keys: CurveKeyPair) {
        self.serverKey = serverKey
        self.keys = keys
    }
}

extension Socket {
    /// Applies `security` (when given) to a DEALER about to connect to the broker.
    public func secure(_ security: PeerSecurity?) throws(ZMQError) {
        guard let security else { return }
        try makeCurveClient(serverKey: security.serverKey, keys: security.keys)
    }
}
