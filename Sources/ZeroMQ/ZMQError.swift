import CZeroMQ

/// A failed libzmq call: the operation that failed and libzmq's error number and text.
public struct ZMQError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The `errno` value libzmq reported.
    public let code: Int32
    /// The wrapper operation that failed, such as `"bind tcp://127.0.0.1:5555"`.
    public let operation: String

    /// Creates an error from an errno value.
    public init(code: Int32, operation: String) {
        self.code = code
        self.operation = operation
    }

    /// Captures the current `zmq_errno()` for `operation`.
    public static func last(_ operation: @autoclosure () -> String) -> ZMQError {
        ZMQError(code: czmq_errno(), operation: operation())
    }

    /// libzmq's text for the error number (`zmq_strerror`).
    public var message: String { String(cString: zmq_strerror(code)) }

    /// True when a non-blocking call would have blocked (EAGAIN).
    public var wouldBlock: Bool { code == EAGAIN }
    /// True when the context was shut down or terminated (ETERM).
    public var isTerminated: Bool { code == ETERM }
    /// True when a signal interrupted the call (EINTR).
    public var isInterrupted: Bool { code == EINTR }

    /// `"<operation>: <zmq_strerror> (errno N)"`.
    public var description: String { "\(operation): \(message) (errno \(code))" }
}

/// The libzmq library version, such as `(4, 3, 4)`.
public func zmqVersion() -> (major: Int, minor: Int, patch: Int) {
    var major: Int32 = 0
    var minor: Int32 = 0
    var patch: Int32 = 0
    zmq_version(&major, &minor, &patch)
    return (Int(major), Int(minor), Int(patch))
}

/// Whether libzmq was built with a capability such as `"curve"` or `"ipc"`.
public func zmqHas(_ capability: String) -> Bool {
    zmq_has(capability) == 1
}
