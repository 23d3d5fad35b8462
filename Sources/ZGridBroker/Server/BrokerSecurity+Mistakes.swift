import ZeroMQ

extension BrokerSecurity {
    /// What is wrong with these settings that can be seen before the broker starts, as a sentence;
    /// nil when nothing is: a key pair whose public key is not its secret key's (every handshake
    /// would fail), or a broker key pair whose public key is listed as a client's or worker's
    /// (the broker was given that peer's key pair, so the peer would present the broker's key), or
    /// the broker's secret key listed as a client's or worker's public key (a secret key pasted
    /// where a public key goes: it is exposed to everyone who reads the list, and lets nobody in).
    /// The secret key itself is never part of the sentence.
    public var mistake: String? {
        guard Curve.publicKey(forSecret: serverKeys.secretKey) == serverKeys.publicKey else {
            return "the broker's CURVE public key \(serverKeys.publicKey) does not belong to its secret key (keys of two pairs mixed?)"
        }
        let secretListed = [("client_keys", clientKeys), ("worker_keys", workerKeys)].filter { $0.1.contains(serverKeys.secretKey) }
        if let (setting, _) = secretListed.first {
            return "the broker's CURVE secret key is listed in \(setting), where public keys go: list the broker's public key "
                + "\(serverKeys.publicKey) nowhere there, and, since whoever read that list has the secret key, make the broker "
                + "a new key pair with `zgrid keygen`"
        }
        let listed = [("client_keys", clientKeys), ("worker_keys", workerKeys)].filter { $0.1.contains(serverKeys.publicKey) }
        guard let (setting, _) = listed.first else { return nil }
        return "the broker's CURVE public key \(serverKeys.publicKey) is listed in \(setting): the broker was given a "
            + "\(setting == "client_keys" ? "client" : "worker")'s key pair; give it a key pair of its own"
    }
}
