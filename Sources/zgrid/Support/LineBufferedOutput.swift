// Preconcurrency: C's `stdout` is a global variable, which Swift 6 otherwise takes for unsafe
// shared state.
#if canImport(Glibc)
    @preconcurrency import Glibc
#elseif canImport(Darwin)
    @preconcurrency import Darwin
#endif

/// Line buffering of standard output, for the commands that run until they are stopped.
enum LineBufferedOutput {
    /// Makes standard output line-buffered, whatever it is: a command that runs until it is stopped
    /// (`zgrid broker`, `worker`, `up`) prints lines that a supervisor or a script waits for, such
    /// as "listening on …", and to a file or a pipe C's default block buffering would hold them
    /// until the command exits. Call it before anything is printed.
    static func enable() {
        setvbuf(stdout, nil, _IOLBF, 0)
    }
}
