/// Why a peer's connections to the broker get no further than their security handshake, as the
/// end of an error message: without it, a refused CURVE key looks like a broker that is down.
public enum HandshakeFailure {
    /// The reason for a failed handshake of a `role` peer ("client" or "worker"), whose public key
    /// the broker looks for in its `[security]` setting `keysSetting`; `refusedKey` when the
    /// broker's authentication refused the key; `curve` when this peer uses CURVE. Without CURVE
    /// here, no key can be wrong: the broker has CURVE on, or what listens there is no ZeroMQ
    /// broker at all (another program, such as the broker's own metrics endpoint).
    public static func message(refusedKey: Bool, role: String, keysSetting: String, curve: Bool = true) -> String {
        if refusedKey { return "the broker refused this \(role)'s CURVE key: is its public key in the broker's [security] \(keysSetting)?" }
        guard curve else {
            return "the handshake with the broker failed: this \(role) has CURVE off; is CURVE on at the broker ([security] curve), "
                + "or is what listens there not a ZGrid broker (such as its metrics endpoint)?"
        }
        return "the security handshake with the broker failed: is the broker's public key right, and is CURVE on at both ends?"
    }
}
