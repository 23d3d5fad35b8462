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
            security: config.security.peer(keyFile: config.security.clientKeyFile), busyRetries: busyRetries, logger: logger)
    }
}

extension SecuritySettings {
    /// The CURVE settings of a client or worker using the key pair in `keyFile`; nil when CURVE is off.
    func peer(keyFile: String) throws -> PeerSecurity? {
        guard curve else { return nil }
        let serverKey = brokerPublicKey.isEmpty ? try KeyFile.load(brokerKeyFile).publicKey : brokerPublicKey
        return PeerSecurity(serverKey: serverKey, keys: try KeyFile.load(keyFile))
    }

    /// Logs a warning when CURVE is on and `keyFile`, holding this process's secret key, is not
    /// private; once per file and process.
    func warnIfExposed(_ keyFile: String, logger: Logger) {
        guard curve, let warning = KeyFile.exposure(keyFile), warnedKeyFiles.withLock({ $0.insert(keyFile).inserted }) else { return }
        logger.warning("\(warning)")
    }

    /// The broker's CURVE settings; nil when CURVE is off.
    func broker() throws -> BrokerSecurity? {
        guard curve else { return nil }
        return BrokerSecurity(serverKeys: try KeyFile.load(brokerKeyFile), clientKeys: Set(clientKeys), workerKeys: Set(workerKeys))
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
