import ArgumentParser
import ZGridClient
import ZGridProtocol

/// `zgrid call NAME [PAYLOAD]`: calls a function once and prints the reply. SIGINT, SIGTERM or
/// SIGHUP cancels the call (see ``SignalCancellation``).
struct CallCommand: AsyncParsableCommand, StopSignalHandling {
    static let configuration = CommandConfiguration(commandName: "call", abstract: "Call a function and print its reply.")

    @OptionGroup var common: CommonOptions

    @Argument(help: "The function to call.")
    var name: String

    @Argument(help: "The payload, sent as UTF-8 text.")
    var payload: String = ""

    @Option(name: .long, help: "The broker endpoint; defaults to [broker] connect.")
    var connect: String?

    @Option(name: .long, parsing: .unconditional, help: "Time limit in milliseconds.")
    var timeoutMs: Int = 10_000

    @Flag(
        name: .long,
        help: "Mark the call safe to run twice: retried on another worker when its worker is lost, and sent again after a broker restart.")
    var idempotent = false

    /// Refuses a time limit the client library would refuse, before connecting.
    func validate() throws {
        guard (1...Int(UInt32.max)).contains(timeoutMs) else {
            throw ValidationError("--timeout-ms \(timeoutMs) is outside 1...\(UInt32.max)")
        }
    }

    func run() async throws {
        let config = try common.loadConfig()
        let logger = try common.bootstrapLogging(config, label: "zgrid.client")
        let client = try common.client(config, connect: connect, logger: logger)
        let started = MonotonicClock.nowNanoseconds()
        let (name, payload, timeoutMs, idempotent) = (name, payload, timeoutMs, idempotent)
        let call = Task { try await client.call(name, Array(payload.utf8), timeout: .milliseconds(timeoutMs), idempotent: idempotent) }
        let interruption = SignalCancellation { call.cancel() }
        do {
            let reply = try await call.value
            let elapsed = Double(MonotonicClock.nowNanoseconds() - started) / 1000
            print(String(decoding: reply, as: UTF8.self))
            FileOutput.standardError("(\(reply.count) bytes in \(String(format: "%.0f", elapsed)) µs)")
            await client.close()
        } catch {
            // Closing sends the CANCEL of a call cancelled by a signal before the process ends.
            await client.close()
            throw interruption.failure(error, command: "zgrid call \(name)", what: "call")
        }
    }
}
