/// Which jobs a `.jobs` read selects, in ascending id order.
public struct JobFilter: Sendable, Equatable {
    /// Only jobs in these states; nil = any state.
    public var states: Set<JobState>?
    /// Only jobs of this function; nil = any function.
    public var function: String?
    /// Only jobs carrying exactly this tag; nil = any tags.
    public var tag: String?
    /// At most this many jobs (values below 0 count as 0).
    public var limit: Int
    /// Only jobs with an id above this one (paging: pass the last id of the previous page).
    public var afterID: Int64?

    /// Creates a filter; nil fields do not filter.
    public init(
        states: Set<JobState>? = nil, function: String? = nil, tag: String? = nil, limit: Int = 100, afterID: Int64? = nil
    ) {
        self.states = states
        self.function = function
        self.tag = tag
        self.limit = limit
        self.afterID = afterID
    }
}
