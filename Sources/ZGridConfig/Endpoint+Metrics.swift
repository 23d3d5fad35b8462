extension Endpoint {
    /// Returns why `endpoint` cannot serve the broker's metrics (a message saying what was
    /// expected), or `nil` if it can: a `tcp://` endpoint to bind, with a host (or `*`) and a fixed
    /// port from 1 to 65535. A `*` or `0` port would bind a random port no scraper could find, and
    /// libzmq would take a port past 65535 modulo 65536, serving the metrics on another port than
    /// the one written.
    public static func metricsProblem(with endpoint: String) -> String? {
        let got = "got \(String(reflecting: endpoint))"
        guard endpoint.hasPrefix("tcp://") else {
            return "expected a tcp:// endpoint such as \"tcp://127.0.0.1:9464\", or \"\" for none, \(got)"
        }
        guard let (host, port) = hostAndPort(endpoint.dropFirst("tcp://".count)), !host.isEmpty else {
            return "expected a tcp endpoint like tcp://host:port, \(got)"
        }
        guard isPortNumber(port) else {
            return "expected a fixed port from 1 to 65535 for scrapers to find, \(got)"
        }
        guard isHost(host, binding: true) else {
            return "expected an IP address, an interface or * before the port, \(got)"
        }
        return nil
    }
}
