extension StatusReport {
    /// Calls of `function` answered per second (successfully or not) between `earlier`, an older
    /// report of the same broker, and this one, over the broker's own time between the two
    /// (its uptime), not the time the reports took to reach the caller.
    ///
    /// Nil when `earlier` has no entry for the function, when no time passed, and when the broker
    /// restarted in between (its uptime went back and its counts started again from 0).
    public func callsPerSecond(of function: Function, since earlier: StatusReport) -> Double? {
        let elapsed = uptimeMilliseconds - earlier.uptimeMilliseconds
        guard elapsed > 0, let before = earlier.functions.first(where: { $0.name == function.name }) else { return nil }
        let done = (function.succeeded + function.failed) - (before.succeeded + before.failed)
        guard done >= 0 else { return nil }
        return Double(done) * 1000 / Double(elapsed)
    }
}
