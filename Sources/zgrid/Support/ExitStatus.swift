import ArgumentParser
import ZGridClient
import ZGridConfig

/// The exit statuses of a failed command (the README's "Exit status"): 64 (`EX_USAGE`) for an
/// argument, 78 (`EX_CONFIG`) for the configuration, 2 for an error of the grid.
enum ExitStatus {
    /// `EX_CONFIG` of sysexits(3): the configuration file, or a key file it names, is wrong (a
    /// ``ZGridConfig/ConfigError``). Like a usage error, it fails the same way when run again.
    static let configuration = ExitCode(78)

    /// Whether a command that ended with `status` would fail the same way when started again: its
    /// arguments (64) or its configuration (78) are wrong.
    static func failsAgain(_ status: Int32) -> Bool {
        status == ExitCode.validationFailure.rawValue || status == configuration.rawValue
    }

    /// How a command that failed with `error` exits: 64 when the client library refused an argument
    /// before sending anything (``GridError/invalidArgument(_:)``), otherwise 2: the grid answered
    /// with an error, or no broker answered.
    static func of(_ error: GridError) -> ExitCode {
        if case .invalidArgument = error { return .validationFailure }
        return ExitCode(2)
    }

    /// How a command that reports `error`, caught from the client library, itself exits: as
    /// ``of(_:)`` for a ``GridError``, 2 for any other error.
    static func of(caught error: any Error) -> ExitCode {
        (error as? GridError).map(of) ?? ExitCode(2)
    }
}
