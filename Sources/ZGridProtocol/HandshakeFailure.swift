/// Why a peer's connections to the broker get no further than their security handshake, as the
/// end of an error message: without it, a refused CURVE key looks like a broker that is down.
public enum HandshakeFailure {
    /// The reason for a failed handshake of a `role` peer ("client" or "worker"), whose public key
    /// the broker looks for in its `[security]` setting `keysSetting`; `refusedKey` when the
    /// broker's authentication refused the key.
    public static func message(refusedKey: Bool, role: String, keysSetting: String) -> String {
        refusedKey
            ? "the broker refused this \(role)'s CURVE key: is its public key in the broker's [security] \(keysSetting)?"
            : "the security handshake with the broker failed: is the broker's public key right, and is CURVE on at both ends?"
    }
}
