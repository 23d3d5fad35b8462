#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Finds another process listening on an `ipc://` endpoint's socket file. libzmq binds such an
/// endpoint by removing the file first, so a second broker on the same endpoint would take it over
/// without an error, leaving the first running but unreachable (and, once the second stops, with
/// no socket file at all). A tcp endpoint in use fails to bind by itself.
enum IPCListenerCheck {
    /// Why `endpoint` cannot be bound, when it is an `ipc://` endpoint whose socket file another
    /// process listens on; nil otherwise (another transport, an abstract `ipc://@name`, the `*`
    /// wildcard, no file, or a stale file nobody listens on, which libzmq replaces).
    static func problem(with endpoint: String) -> String? {
        guard endpoint.hasPrefix("ipc://") else { return nil }
        let path = String(endpoint.dropFirst("ipc://".count))
        guard !path.isEmpty, path != "*", !path.hasPrefix("@") else { return nil }
        guard isListened(path) else { return nil }
        return "a broker or another program already listens on \(path); "
            + "binding it would take the endpoint over and leave that one running unreachable"
    }

    /// Whether a connection to the Unix socket at `path` is accepted.
    private static func isListened(_ path: String) -> Bool {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { return false }  // too long for a socket: libzmq says so
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: bytes)
            buffer[bytes.count] = 0
        }
        #if canImport(Glibc)
            let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #else
            let descriptor = socket(AF_UNIX, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        return connected == 0
    }
}
