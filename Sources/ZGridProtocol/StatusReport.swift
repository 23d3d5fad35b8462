/// The broker's answer to ADMIN STATUS (JSON): what it serves and how busy it is.
public struct StatusReport: Sendable, Codable, Equatable {
    /// One registered worker.
    public struct Worker: Sendable, Codable, Equatable {
        /// The worker's routing id in hexadecimal (what `zgrid drain` takes).
        public var id: String
        /// The functions it serves, as announced (with shards).
        public var functions: [String]
        /// Its concurrency.
        public var capacity: Int
        /// Calls and job attempts it runs now.
        public var inFlight: Int
        /// Job attempts among them.
        public var jobsInFlight: Int
        /// Draining: no new work.
        public var draining: Bool

        /// Creates a worker entry.
        public init(id: String, functions: [String], capacity: Int, inFlight: Int, jobsInFlight: Int, draining: Bool) {
            self.id = id
            self.functions = functions
            self.capacity = capacity
            self.inFlight = inFlight
            self.jobsInFlight = jobsInFlight
            self.draining = draining
        }
    }

    /// One function.
    public struct Function: Sendable, Codable, Equatable {
        /// The name under which calls to functions no worker served when they arrived, and calls to
        /// names past the 1,000 the broker tracks, are counted (in this report and in the metrics'
        /// `function` label). Its parentheses cannot occur in a function name, so a real function
        /// called `other` keeps its own entry.
        public static let otherName = "(other)"
        /// Its name.
        public var name: String
        /// Workers serving it.
        public var workers: Int
        /// Their capacity in all, and how much of it is in use.
        public var capacity: Int
        /// Slots in use.
        public var inFlight: Int
        /// Calls waiting in the queue.
        public var queuedCalls: Int
        /// Calls answered since start, successfully and with an error.
        public var succeeded: Int
        /// Calls that failed since start.
        public var failed: Int
        /// Median and 99th percentile call latency since start, in microseconds (0 when none).
        public var p50Microseconds: Int
        /// The 99th percentile.
        public var p99Microseconds: Int

        /// Creates a function entry.
        public init(
            name: String, workers: Int, capacity: Int, inFlight: Int, queuedCalls: Int, succeeded: Int, failed: Int, p50Microseconds: Int,
            p99Microseconds: Int
        ) {
            self.name = name
            self.workers = workers
            self.capacity = capacity
            self.inFlight = inFlight
            self.queuedCalls = queuedCalls
            self.succeeded = succeeded
            self.failed = failed
            self.p50Microseconds = p50Microseconds
            self.p99Microseconds = p99Microseconds
        }
    }

    /// Milliseconds since the broker started.
    public var uptimeMilliseconds: Int64
    /// Registered workers.
    public var workers: [Worker]
    /// Functions with workers or queued calls.
    public var functions: [Function]
    /// Unfinished jobs by state (queued, scheduled, running).
    public var jobs: [String: Int]
    /// Queued jobs by priority ("0" … "9").
    public var queuedJobsByPriority: [String: Int]
    /// Counters since start: calls, scatters, jobs, malformed messages, workers lost…
    public var counters: [String: Int]

    /// Creates a report.
    public init(
        uptimeMilliseconds: Int64, workers: [Worker], functions: [Function], jobs: [String: Int], queuedJobsByPriority: [String: Int],
        counters: [String: Int]
    ) {
        self.uptimeMilliseconds = uptimeMilliseconds
        self.workers = workers
        self.functions = functions
        self.jobs = jobs
        self.queuedJobsByPriority = queuedJobsByPriority
        self.counters = counters
    }
}
