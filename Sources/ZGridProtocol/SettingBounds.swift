/// The range the public settings of brokers, workers and clients keep their durations in.
///
/// An initialiser given a duration past these bounds clamps it instead of trapping: so no absurd
/// value (such as `Int64.max` milliseconds) can make the deadlines and periods computed from it
/// overflow. The bound is far past any useful setting.
public enum SettingBounds {
    /// The longest duration a setting keeps, in milliseconds: 100 years.
    public static let maxMilliseconds: Int64 = 3_155_760_000_000

    /// `value` clamped to `minimum...maxMilliseconds`.
    public static func milliseconds(_ value: Int64, atLeast minimum: Int64 = 0) -> Int64 {
        min(max(minimum, value), maxMilliseconds)
    }

    /// `value`, when given, clamped to `minimum...maxMilliseconds`.
    public static func milliseconds(_ value: Int64?, atLeast minimum: Int64 = 0) -> Int64? {
        value.map { milliseconds($0, atLeast: minimum) }
    }
}
