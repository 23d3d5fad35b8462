import Foundation

/// A latency measured in nanoseconds, printed in microseconds with `digits` decimals.
func formatMicroseconds(_ nanoseconds: UInt64, digits: Int = 1) -> String {
    String(format: "%.\(digits)f", Double(nanoseconds) / 1000)
}
