import Foundation
import Testing

/// The Python MDP peers in `Tests/Interop`, written from RFC 7 with pyzmq, run as child processes.
enum PythonPeers {
    /// `Tests/Interop`, found from this file's path.
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Interop")

    /// Fails the test (never skips it) when `python3` or pyzmq is missing.
    static func requirePyzmq() async throws {
        let result = try await run(["-c", "import zmq"], timeoutSeconds: 30)
        guard result.status == 0 else {
            throw InteropError(
                message: "pyzmq cannot be imported by python3 (\(result.stderr.split(separator: "\n").last ?? "no output")): "
                    + "install it with `python3 -m pip install pyzmq` or `apt-get install python3-zmq` (`make test` does this)")
        }
    }

    /// Runs the MDP client script once and decodes its JSON line.
    static func mdpClient(_ endpoint: String, _ service: String, _ body: [String], dealer: Bool = false) async throws -> MDPReply {
        var arguments = [directory.appendingPathComponent("mdp_client.py").path, endpoint, service] + body
        arguments += ["--timeout-ms", "8000"] + (dealer ? ["--dealer"] : [])
        let result = try await run(arguments, timeoutSeconds: 20)
        guard result.status == 0 else {
            throw InteropError(message: "mdp_client.py \(service) exited \(result.status): \(result.stderr)")
        }
        return try JSONDecoder().decode(MDPReply.self, from: Data(result.stdout.utf8))
    }

    /// Starts the MDP worker script serving `service`; its standard error is kept for ``errors(of:)``.
    /// With `busyMilliseconds`, it works that long on each request, silent meanwhile (as mdwrkapi).
    static func launchWorker(
        _ endpoint: String, _ service: String, heartbeatMilliseconds: Int64, liveness: Int64, busyMilliseconds: Int64 = 0
    ) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", directory.appendingPathComponent("mdp_worker.py").path, endpoint, service,
            "--heartbeat-ms", "\(heartbeatMilliseconds)", "--liveness", "\(liveness)", "--busy-ms", "\(busyMilliseconds)",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = Pipe()
        try process.run()
        return process
    }

    /// Stops a worker started by ``launchWorker(_:_:heartbeatMilliseconds:liveness:busyMilliseconds:)`` with SIGTERM
    /// (SIGKILL after 10 s) and returns its exit status and what it wrote to standard error.
    static func stop(_ process: Process) async -> (status: Int32, stderr: String) {
        if process.isRunning { process.terminate() }
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(10)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()  // also when it has ended: only this releases the Process on Linux
        let data = (process.standardError as? Pipe)?.fileHandleForReading.readDataToEndOfFile() ?? Data()
        return (process.terminationReason == .exit ? process.terminationStatus : -1, String(decoding: data, as: UTF8.self))
    }

    /// Runs `python3 arguments…` to completion (killed after `timeoutSeconds`).
    static func run(_ arguments: [String], timeoutSeconds: Double) async throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        do {
            try process.run()
        } catch {
            throw InteropError(message: "cannot start python3: \(error)")
        }
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while process.isRunning {
            if Date() > deadline {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                throw InteropError(message: "python3 \(arguments.joined(separator: " ")) did not finish within \(timeoutSeconds) s")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        process.waitUntilExit()  // it has ended; only this releases the Process on Linux
        let stdout = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (process.terminationStatus, stdout, stderr)
    }
}

/// An MDP REPLY as the Python client prints it.
struct MDPReply: Decodable, Equatable {
    let service: String
    let body: [String]
}

/// A Python peer could not run or answered wrongly.
struct InteropError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
