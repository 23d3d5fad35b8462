import ZGridProtocol

extension BrokerSettings {
    /// The heartbeat interval and liveness of `[broker]`, which the broker, its workers and its
    /// clients all use.
    public var heartbeat: HeartbeatSettings {
        HeartbeatSettings(intervalMilliseconds: Int64(heartbeatIntervalMs), liveness: Int64(liveness))
    }
}
