import ZGridConfig

extension SecuritySettings {
    /// With CURVE on, checks before anything starts the key pair that `zgrid up`'s workers use
    /// (`worker_key_file`): one that cannot be loaded would make every worker exit at start and be
    /// restarted forever, and one whose public key `worker_keys` does not list would have every
    /// worker refused by the broker, reconnecting forever. `configFile` names the file in errors.
    func checkPoolWorkerKeys(configFile: String) throws(ConfigError) {
        guard curve else { return }
        let keys = try KeyFile.load(workerKeyFile)
        guard workerKeys.contains(keys.publicKey) else {
            throw ConfigError.about(
                "security.worker_keys", in: configFile,
                "expected the public key of worker_key_file \(workerKeyFile), \"\(keys.publicKey)\", which the pools' workers use: "
                    + "without it the broker refuses every one of them (add it, or set worker_key_file to a listed pair)")
        }
    }
}
