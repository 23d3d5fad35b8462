import ZGridConfig

extension BrokerSettings {
    /// For `zgrid up` and `zgrid demo` with pools to start, checks that `connect`, the endpoint the
    /// pools' worker processes connect to, is not an `inproc://` one: inproc connects only within
    /// one process, so every worker would reconnect forever without ever reaching the broker while
    /// the cluster seemed up. Names `connect` when the file sets it to another endpoint than the
    /// first `bind` one, which it otherwise defaults to; `configFile` names the file in errors.
    func checkPoolsCanConnect(configFile: String) throws(ConfigError) {
        guard connect.hasPrefix("inproc://") else { return }
        let why = "inproc:// connects only within one process, and zgrid up runs each worker as a process of its own"
        guard connect == bind.first else {
            throw ConfigError.about(
                "broker.connect", in: configFile,
                "expected a tcp:// or ipc:// endpoint for the pools' workers to connect to, got \(String(reflecting: connect)): \(why)")
        }
        throw ConfigError.about(
            "broker.bind", in: configFile,
            "expected a tcp:// or ipc:// endpoint first (or a [broker] connect one) for the pools' workers to connect to, "
                + "got \(String(reflecting: connect)), which connect defaults to: \(why)")
    }
}
