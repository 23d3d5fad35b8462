/// Checks ZeroMQ endpoint strings and derives connect addresses from bind addresses.
///
/// The check refuses what libzmq refuses outright (a transport it does not take, an empty address,
/// characters its tcp address check rejects), and a tcp port out of range, which libzmq would
/// silently take modulo 65536; it cannot tell whether a host resolves or a peer listens.
public enum Endpoint {
    /// The accepted transports.
    public static let schemes = ["tcp://", "ipc://", "inproc://"]

    /// Hosts that mean "all interfaces" when binding.
    static let wildcardHosts: Set<Substring> = ["*", "0.0.0.0"]

    /// Returns why `endpoint` is not acceptable (a message saying what was expected), or `nil` if it is fine.
    /// - Parameters:
    ///   - endpoint: The endpoint text.
    ///   - binding: Whether the endpoint is bound (allowing a `*` host or port) rather than connected to.
    public static func problem(with endpoint: String, binding: Bool) -> String? {
        let got = "got \(String(reflecting: endpoint))"
        guard let scheme = schemes.first(where: { endpoint.hasPrefix($0) }) else {
            return "expected a ZeroMQ endpoint starting with tcp://, ipc:// or inproc://, \(got)"
        }
        let address = endpoint.dropFirst(scheme.count)
        guard !address.isEmpty, !address.contains(where: \.isWhitespace) else {
            return "expected an address without spaces after \(scheme), \(got)"
        }
        guard scheme == "tcp://" else { return nil }
        guard let (host, port) = hostAndPort(address), !host.isEmpty else {
            return "expected a tcp endpoint like tcp://host:port, \(got)"
        }
        if binding {
            guard port == "*" || isPortNumber(port) else {
                return "expected a port from 1 to 65535 or * in a tcp endpoint, \(got)"
            }
        } else {
            guard host != "*", isPortNumber(port) else {
                return "expected a concrete host and a port from 1 to 65535 to connect to, \(got)"
            }
        }
        guard isHost(host, binding: binding) else {
            return "expected a host name, an IP address or [IPv6 address]\(binding ? ", an interface or *" : "") before the port, \(got)"
        }
        return nil
    }

    /// The endpoint to connect to for a bound endpoint: a wildcard tcp host (`*` or `0.0.0.0`)
    /// becomes `127.0.0.1`; anything else is returned unchanged.
    static func connectAddress(forBind endpoint: String) -> String {
        guard endpoint.hasPrefix("tcp://"),
            let (host, port) = hostAndPort(endpoint.dropFirst("tcp://".count)),
            wildcardHosts.contains(host)
        else { return endpoint }
        return "tcp://127.0.0.1:\(port)"
    }

    /// Splits `host:port` at the last colon.
    static func hostAndPort(_ address: Substring) -> (host: Substring, port: Substring)? {
        guard let colon = address.lastIndex(of: ":") else { return nil }
        return (address[..<colon], address[address.index(after: colon)...])
    }

    /// Whether `host` passes libzmq's own check of a tcp address: a letter, digit, `[` or `:` first
    /// (or `*` when binding), then only letters, digits and `. - : % ; [ ] _ *`.
    static func isHost(_ host: Substring, binding: Bool) -> Bool {
        func isAlphanumeric(_ byte: UInt8) -> Bool {
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
        }
        let first: Set<UInt8> =
            binding ? [UInt8(ascii: "["), UInt8(ascii: ":"), UInt8(ascii: "*")] : [UInt8(ascii: "["), UInt8(ascii: ":")]
        let rest = Set(".-:%;[]_*".utf8)
        guard let head = host.utf8.first, isAlphanumeric(head) || first.contains(head) else { return false }
        return host.utf8.dropFirst().allSatisfy { isAlphanumeric($0) || rest.contains($0) }
    }

    /// Whether `text` is a decimal port number from 1 to 65535.
    static func isPortNumber(_ text: Substring) -> Bool {
        guard (1...5).contains(text.utf8.count), text.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
            let port = Int(text)
        else { return false }
        return (1...65535).contains(port)
    }
}
