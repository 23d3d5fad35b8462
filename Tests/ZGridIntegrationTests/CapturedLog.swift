import Logging
import Synchronization

/// Lines logged at warning level or worse through ``logger(_:)``, kept for a test to read.
final class CapturedLog: Sendable {
    private let lines = Mutex<[String]>([])

    /// Every line so far, as "level: message".
    var text: String { lines.withLock { $0.joined(separator: "\n") } }

    /// A logger that keeps its warnings and worse here.
    func logger(_ label: String) -> Logger {
        var logger = Logger(label: label) { _ in Handler(log: self) }
        logger.logLevel = .warning
        return logger
    }

    private struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .warning

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            log.lines.withLock { $0.append("\(event.level): \(event.message)") }
        }
    }
}
