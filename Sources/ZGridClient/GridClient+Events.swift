import ZGridProtocol

extension GridClient {
    /// Subscribes to events the broker pushes: job events (queued, started, progress, retried,
    /// succeeded, failed, dead, cancelled, …) and pool events (workers joining and leaving).
    ///
    /// ```swift
    /// for try await event in client.events(matching: .job(id)) {
    ///     print(event.kind, event.fraction ?? 0)
    ///     if event.kind.isFinal { break }
    /// }
    /// ```
    ///
    /// The stream survives reconnects and broker restarts: the client subscribes again after the
    /// last event it delivered, and the broker replays what was missed from its event log (or
    /// sends a ``GridEventKind/gap`` event for what is older than it keeps).
    ///
    /// - Parameters:
    ///   - filter: which events; ``EventFilter/everything`` by default.
    ///   - name: a durable name: the broker remembers how far it was read, so a later
    ///     subscription with the same name (from this or another client) resumes there.
    ///   - after: resume after this seq instead (replaying from the broker's log).
    ///   - window: events delivered and not yet taken before the consumer lags (default: the broker's).
    public func events(matching filter: EventFilter = .everything, name: String? = nil, after: UInt64? = nil, window: Int? = nil)
        throws(GridError) -> EventStream
    {
        if let name, name.isEmpty || name.utf8.count > SubscribeRequest.maxNameBytes {
            throw .invalidArgument("a subscription name must have 1 to \(SubscribeRequest.maxNameBytes) bytes")
        }
        if let window, window < 1 { throw .invalidArgument("window must be at least 1") }
        try Self.check(filter)
        let id = ids.next()
        let request = SubscribeRequest(name: name, filter: filter, after: after, window: window)
        let (events, continuation) = AsyncThrowingStream<GridEvent, any Error>.makeStream()
        let state = SubscriptionState(continuation: continuation, request: request, window: window ?? 1000)
        let mailbox = self.mailbox
        continuation.onTermination = { _ in mailbox.post(.cancel(id: id)) }
        mailbox.post(.subscribe(id: id, request: request, subscription: state))
        return EventStream(events: events, state: state, id: id, mailbox: mailbox)
    }

    /// Refuses a filter that could match nothing for want of a valid value: job id 0, a tag that
    /// breaks the tag rules, an invalid function name.
    static func check(_ filter: EventFilter) throws(GridError) {
        if filter.jobs?.contains(0) == true { throw .invalidArgument("job ids start at 1") }
        if let tag = filter.tags?.first(where: { !JobTags.isValid([$0]) }) {
            throw .invalidArgument("tag '\(tag)': use 1 to \(JobTags.maxLength) characters without commas")
        }
        if let function = filter.functions?.first(where: { !FunctionName.isValid($0) }) {
            throw .invalidArgument(FunctionName.invalidMessage(function))
        }
    }

    /// The filter for every job this client submitted (jobs carry the tag `client:<name>`).
    public var submittedByThisClient: EventFilter { .tag(originTag) }

}
