import CZeroMQ

/// A libzmq context: the owner of I/O threads and the factory of sockets.
///
/// A context is thread-safe. Every ``Socket`` keeps its context alive, so the context is terminated
/// only after its last socket closes.
public final class Context: @unchecked Sendable {
    // @unchecked: libzmq documents contexts as thread-safe; the handle is immutable.
    let handle: UnsafeMutableRawPointer

    /// Creates a context with `ioThreads` libzmq I/O threads.
    public init(ioThreads: Int = 1) throws(ZMQError) {
        guard let handle = zmq_ctx_new() else { throw ZMQError.last("zmq_ctx_new") }
        self.handle = handle
        if ioThreads != 1 {
            zmq_ctx_set(handle, ZMQ_IO_THREADS, Int32(ioThreads))
        }
    }

    /// Makes every blocking call on this context's sockets return `ETERM`; sockets must still be closed.
    ///
    /// Safe to call from any thread, more than once.
    public func shutdown() {
        zmq_ctx_shutdown(handle)
    }

    deinit {
        while zmq_ctx_term(handle) != 0 && czmq_errno() == EINTR {}
    }
}
