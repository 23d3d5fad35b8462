#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Names the calling thread `name` at the OS level (the OS keeps the first 15 bytes), as `top -H`
/// and /proc show it, by writing it to /proc/thread-self/comm (Linux; nothing elsewhere).
///
/// Foundation's `Thread.current.name` alone does not always reach the OS thread on Linux (it
/// applies the name only once the creating thread has recorded the new thread's handle), and the
/// thread then shows its creator's name. The helper lives here as this is the lowest module that
/// the modules running threads of their own (`ZGridProtocol` for the I/O threads, `ZGridJobStore`
/// for the store's thread) share.
public func nameCurrentOSThread(_ name: String) {
    #if os(Linux)
        let fd = open("/proc/thread-self/comm", O_WRONLY)
        guard fd >= 0 else { return }
        let bytes = Array(name.utf8.prefix(15))
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    #endif
}
