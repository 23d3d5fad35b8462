import TOMLKit

/// Renders a TOML value for the "got …" part of error messages.
enum ValueDescription {
    /// Strings quoted, numbers and booleans as written, other values by kind (e.g. "an array").
    static func of(_ value: TOMLValueConvertible) -> String {
        switch value.type {
        case .string: String(reflecting: value.string ?? "")
        case .int: value.int.map { String($0) } ?? "an integer"
        case .double: value.double.map { String($0) } ?? "a floating-point number"
        case .bool: value.bool.map { String($0) } ?? "a boolean"
        case .array: "an array"
        case .table: "a table"
        case .date: "a date"
        case .time: "a time"
        case .dateTime: "a date-time"
        }
    }
}
