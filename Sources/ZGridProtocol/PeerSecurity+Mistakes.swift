import ZeroMQ

extension PeerSecurity {
    /// What is wrong with these settings of a `role` peer ("client" or "worker") that can be seen
    /// before connecting, as a sentence; nil when nothing is. Each of these mistakes would
    /// otherwise only show as a failed or refused handshake (or silence) once connected: a key pair
    /// whose public key is not its secret key's, the broker's own key pair used as this peer's,
    /// or this peer's own secret key given as the broker's public key. `keysSetting` names the
    /// broker's `[security]` list this peer's public key belongs in.
    public func mistake(role: String, keysSetting: String) -> String? {
        guard Curve.isValidKey(serverKey) else {
            return "the broker's public key \(String(reflecting: serverKey)) is not a 40-character Z85 key"
        }
        guard Curve.publicKey(forSecret: keys.secretKey) == keys.publicKey else {
            return "this \(role)'s CURVE public key \(keys.publicKey) does not belong to its secret key (keys of two pairs mixed?)"
        }
        if keys.publicKey == serverKey {
            return "this \(role) uses the broker's own CURVE key pair (its public key is the broker's, \(serverKey)): "
                + "give it a key pair of its own, listed in the broker's [security] \(keysSetting)"
        }
        if keys.secretKey == serverKey {
            return "the broker's public key given to this \(role) is its own CURVE secret key: "
                + "give it the broker's public key (as `zgrid keygen` printed it for the broker's key file)"
        }
        return nil
    }
}
