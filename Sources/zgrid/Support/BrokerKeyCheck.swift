import ZGridConfig

extension SecuritySettings {
    /// With CURVE on, checks before the broker starts that `broker_public_key`, when set, is the
    /// public key of `broker_key_file`, the pair the broker serves with: otherwise every client and
    /// worker reading this file would fail the handshake. `configFile` names the file in errors.
    func checkBrokerPublicKey(configFile: String) throws(ConfigError) {
        guard curve, !brokerPublicKey.isEmpty else { return }
        let keys = try KeyFile.load(brokerKeyFile)
        guard keys.publicKey == brokerPublicKey else {
            throw ConfigError.about(
                "security.broker_public_key", in: configFile,
                "expected the public key of broker_key_file \(brokerKeyFile), \"\(keys.publicKey)\", with which the broker serves, "
                    + "got \"\(brokerPublicKey)\": clients and workers using it would all fail the handshake")
        }
    }
}
