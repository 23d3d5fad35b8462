extension ClientLoop {
    /// Why the requests lost to a broker silent for `milliseconds` failed. When no broker has
    /// answered since the client started and no connection's handshake succeeded, none took them:
    /// the error says so, instead of that they may have taken effect. Either way they are still
    /// queued in the socket (no connection took them, or one that did may come back) and may reach
    /// a broker that starts (or comes back) while the client runs.
    func silenceReason(silentFor milliseconds: Int64) -> String {
        guard heardAnyBroker || handshakeSinceDrop else {
            return "no broker answered at \(broker) in \(milliseconds) ms (none has since this client started), "
                + "so no broker took the request; it may still reach one that starts there while this client runs"
        }
        return "no heartbeat from \(broker) for \(milliseconds) ms; the request may or may not have taken effect, "
            + "and may still reach the broker if it comes back"
    }
}
