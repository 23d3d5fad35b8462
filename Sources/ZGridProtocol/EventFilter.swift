/// Which events a subscription receives. An event matches when the filter names nothing at all
/// (everything), or its job is in `jobs`, or it carries one of `tags`, or its function is in
/// `functions`, or it is a pool event and `pool` is true. Criteria add up (any one is enough).
public struct EventFilter: Sendable, Codable, Equatable {
    /// Events of these jobs.
    public var jobs: [UInt64]?
    /// Events of jobs with one of these tags.
    public var tags: [String]?
    /// Events of jobs of these functions, and their `no_workers` events (`worker_joined` and
    /// `worker_left` name no function, as a worker may serve several: `pool` asks for them).
    public var functions: [String]?
    /// Pool events: a worker joined or left, a function has no workers.
    public var pool: Bool?

    /// Creates a filter; with nothing named it matches every event.
    public init(jobs: [UInt64]? = nil, tags: [String]? = nil, functions: [String]? = nil, pool: Bool? = nil) {
        self.jobs = jobs
        self.tags = tags
        self.functions = functions
        self.pool = pool
    }

    /// Every event.
    public static let everything = EventFilter()

    /// The events of one job.
    public static func job(_ id: UInt64) -> EventFilter { EventFilter(jobs: [id]) }

    /// The events of jobs carrying `tag`.
    public static func tag(_ tag: String) -> EventFilter { EventFilter(tags: [tag]) }

    /// The events of `function`'s jobs and its `no_workers` events (not workers joining or leaving:
    /// see ``poolEvents``).
    public static func function(_ name: String) -> EventFilter { EventFilter(functions: [name]) }

    /// Pool events only.
    public static let poolEvents = EventFilter(pool: true)

    /// Whether the filter names nothing, so it matches every event.
    public var isEverything: Bool {
        (jobs ?? []).isEmpty && (tags ?? []).isEmpty && (functions ?? []).isEmpty && pool != true
    }

    /// Whether an event of `kind` about `job` (with `tags`, of `function`) matches.
    public func matches(kind: GridEventKind, job: UInt64?, function: String?, tags eventTags: [String]) -> Bool {
        if isEverything { return true }
        if let job, let jobs, jobs.contains(job) { return true }
        if let tags, !eventTags.isEmpty, tags.contains(where: eventTags.contains) { return true }
        if let function, let functions, functions.contains(function) { return true }
        return pool == true && kind.isPoolEvent
    }
}

/// The request of a SUBSCRIBE command (JSON).
public struct SubscribeRequest: Sendable, Codable, Equatable {
    /// A durable name: the broker remembers how far a named subscription has read, so a new client
    /// subscribing with the same name resumes there. Nil for an anonymous subscription.
    public var name: String?
    /// Which events.
    public var filter: EventFilter
    /// Resume after this seq (replaying from the log what the broker still keeps). Nil: a named
    /// subscription resumes at its remembered position (live when it has none), an anonymous one
    /// starts live.
    public var after: UInt64?
    /// How many events may be delivered and not yet acknowledged; beyond it the consumer lags.
    public var window: Int?

    /// Creates a request.
    public init(name: String? = nil, filter: EventFilter, after: UInt64? = nil, window: Int? = nil) {
        self.name = name
        self.filter = filter
        self.after = after
        self.window = window
    }

    /// The longest subscription name accepted.
    public static let maxNameBytes = 255
}

/// Limits on the PROGRESS command.
public enum ProgressReport {
    /// The longest progress message accepted, in bytes.
    public static let maxMessageBytes = 1024
}
