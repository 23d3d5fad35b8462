import Logging
import Synchronization
import ZGridBroker
import ZGridClient
import ZGridConfig
import ZGridProtocol
import ZeroMQ

extension CommonOptions {
    /// A client of the configured broker (or `connect`), with the configured heartbeat, and CURVE
    /// when `[security] curve` is on; `busyRetries` as in ``GridClient/busyRetries`` (0: BUSY
    /// answers are thrown at once).
    func client(_ config: ClusterConfig, connect: String?, busyRetries: Int = 3, logger: Logger) throws -> GridClient {
        config.security.warnIfExposed(config.security.clientKeyFile, logger: logger)
        return try GridClient(
            broker: connect ?? config.broker.connect,
            heartbeat: config.broker.heartbeat,
            security: config.security.clientPeer(), busyRetries: busyRetries, logger: logger)
    }
}

extension SecuritySettings {
    /// The CURVE settings of `zgrid` client commands (`client_key_file`); nil when CURVE is off.
    func clientPeer() throws -> PeerSecurity? {
        try peer(keyFile: clientKeyFile, role: "client", listed: ("client_keys", clientKeys), notListed: ("worker_keys", workerKeys))
    }

    /// The CURVE settings of `zgrid worker` (`worker_key_file`); nil when CURVE is off.
    func workerPeer() throws -> PeerSecurity? {
        try peer(keyFile: workerKeyFile, role: "worker", listed: ("worker_keys", workerKeys), notListed: ("client_keys", clientKeys))
    }

    /// The CURVE settings of a `role` peer using the key pair in `keyFile`; nil when CURVE is off.
    /// A mistake seen before connecting (see ``PeerSecurity/mistake(role:keysSetting:)``), or a
    /// public key that this file lists only for the other role (`notListed`, not `listed`), is a
    /// configuration error naming the key file: the broker would fail, refuse or ignore this peer.
    private func peer(keyFile: String, role: String, listed: (String, [String]), notListed: (String, [String])) throws -> PeerSecurity? {
        guard curve else { return nil }
        let serverKey = brokerPublicKey.isEmpty ? try KeyFile.load(brokerKeyFile).publicKey : brokerPublicKey
        let security = PeerSecurity(serverKey: serverKey, keys: try KeyFile.load(keyFile))
        if let mistake = security.mistake(role: role, keysSetting: listed.0) { throw ConfigError(file: keyFile, message: mistake) }
        let key = security.keys.publicKey
        if notListed.1.contains(key) && !listed.1.contains(key) {
            throw ConfigError(
                file: keyFile,
                message: "this \(role) key pair's public key \(key) is listed in [security] \(notListed.0), not \(listed.0): "
                    + "the broker would refuse every \(role) command from it (\(role)_key_file names a key pair of the other role?)")
        }
        return security
    }

    /// Logs a warning when CURVE is on and `keyFile`, holding this process's secret key, is not
    /// private; once per file and process.
    func warnIfExposed(_ keyFile: String, logger: Logger) {
        guard curve, let warning = KeyFile.exposure(keyFile), warnedKeyFiles.withLock({ $0.insert(keyFile).inserted }) else { return }
        logger.warning("\(warning)")
    }

    /// The broker's CURVE settings; nil when CURVE is off. A mistake seen before starting (see
    /// ``BrokerSecurity/mistake``) is a configuration error naming the broker's key file.
    func broker() throws -> BrokerSecurity? {
        guard curve else { return nil }
        let security = BrokerSecurity(
            serverKeys: try KeyFile.load(brokerKeyFile), clientKeys: Set(clientKeys), workerKeys: Set(workerKeys))
        if let mistake = security.mistake { throw ConfigError(file: brokerKeyFile, message: mistake) }
        return security
    }
}

extension BrokerServer {
    /// Starts a broker with `configuration`, made from `config`, after warning when CURVE is on and
    /// the broker's key file is not private.
    static func start(_ configuration: BrokerConfiguration, of config: ClusterConfig, logger: Logger) throws -> BrokerServer {
        config.security.warnIfExposed(config.security.brokerKeyFile, logger: logger)
        return try start(configuration, logger: logger)
    }
}

/// The key files this process has warned about.
private let warnedKeyFiles = Mutex<Set<String>>([])
