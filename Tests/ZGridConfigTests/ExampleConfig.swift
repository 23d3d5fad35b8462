/// The text of the example `cluster.conf` at the repository root, kept identical to that file.
enum ExampleConfig {
    /// The file's exact text, including the final newline.
    static let text = """
        # ZGrid cluster configuration (TOML).
        # Unknown sections and keys are rejected, so a typo is reported instead of ignored.

        [broker]
        # ZeroMQ endpoints the broker binds: tcp://, ipc:// or inproc://.
        bind = ["tcp://127.0.0.1:5555"]
        # Endpoint clients and workers connect to. Defaults to the first bind endpoint,
        # with a * or 0.0.0.0 host replaced by 127.0.0.1.
        # connect = "tcp://127.0.0.1:5555"
        # Heartbeat interval between broker and workers, in milliseconds (10 to 60000).
        heartbeat_ms = 1000
        # Heartbeats a peer may miss before it is considered dead (1 to 100).
        liveness = 3
        # Request timeout when a client sets none, in milliseconds.
        default_timeout_ms = 30000
        # How long a function may be without workers before its calls fail "unknown function", in
        # milliseconds: counted from when its last worker left (or from broker start for a function never
        # served). Until then its calls wait for a worker; after that they fail at once.
        unknown_function_grace_ms = 5000
        # Largest frame accepted, in bytes (libzmq drops a peer that sends a larger one; clients and
        # workers learn the limit from the broker and refuse larger payloads and results themselves).
        max_message_bytes = 16777216
        # Largest number of frames accepted in one message.
        max_frames = 64
        # Log level: trace, debug, info, notice, warning, error or critical.
        log_level = "info"
        # Aging of queued calls and jobs: a waiting item gains one priority level per this many
        # milliseconds, so low-priority work is delayed, never starved.
        aging_ms = 1000

        # One [[pool]] table per group of identical worker processes.
        [[pool]]
        # Unique name of the pool.
        name = "demo"
        # Functions the pool's workers serve.
        functions = ["echo", "sleep", "hash", "search"]
        # Worker processes to start (1 to 256).
        processes = 2
        # Requests each process runs at once (1 to 10000).
        concurrency = 8
        # Corpus shards held by the pool, out of the total; split over the processes.
        shards = "0-15/16"
        # Seed of the generated search corpus.
        seed = 42

        [jobs]
        # SQLite file of the durable job store (WAL mode); "" runs the broker without jobs.
        store = "zgrid-jobs.sqlite"
        # Percent of each worker's concurrency that background jobs never take (kept for interactive calls).
        reserve_percent = 25
        # Time limit (lease) of a job attempt that names none, in milliseconds.
        default_time_limit_ms = 300000
        # How long a finished job's result is kept, in seconds.
        result_ttl_s = 86400
        # Longest retry backoff, in milliseconds.
        max_backoff_ms = 3600000

        [events]
        # How long the broker's event log keeps job and pool events for resuming subscribers, in seconds.
        retention_s = 3600
        # Events a subscription may have unacknowledged before it lags (gets one "lagged" event instead).
        window = 1000
        # Results up to this many bytes travel inside "succeeded" events.
        inline_result_bytes = 4096
        # Shortest time between two progress events of one job, in milliseconds.
        progress_interval_ms = 250
        # Open subscriptions per client.
        max_subscriptions_per_client = 64

        # Recurring jobs: one [[schedule]] table each. The broker submits the job at every cron slot (UTC),
        # once per slot even across restarts; of the slots missed while it was down within catch_up_s, the
        # latest fires (catch_up = "latest", the others are coalesced into it and logged) or all do ("all").
        # [[schedule]]
        # name = "nightly-report"
        # cron = "0 3 * * *"
        # function = "hash"
        # payload = "1000000"
        # priority = 0
        # max_attempts = 3
        # catch_up_s = 3600
        # catch_up = "latest"

        [shedding]
        # Load shedding: while the broker is overloaded, queued sheddable jobs of low priority are parked
        # as "deferred" instead of dispatched; a sweep queues them again once the load has fallen.
        enabled = true
        # Overloaded when this many calls are queued in all...
        queued_calls = 64
        # ...or a queued call has waited this long, in milliseconds.
        call_wait_ms = 250
        # Sheddable jobs of this priority or lower are parked.
        max_priority = 3
        # Calm this long (milliseconds) before the sweep queues deferred jobs again.
        calm_ms = 2000
        # Deferred jobs queued again per sweep tick.
        sweep_batch = 500

        # Queue control for one function (optional; one [[function]] table per function).
        [[function]]
        name = "hash"
        # Admission: at most this many calls queued; more are answered BUSY with a retry-after time.
        max_queued = 10000
        # Admission: at most this many jobs waiting: queued (in memory and on disk), delayed or waiting
        # for a retry, and deferred by load shedding (running ones do not count). Delayed submits too are
        # answered BUSY at the limit.
        max_queued_jobs = 1000000
        # Admission: refuse when the expected queue wait (queue length / recent drain rate) exceeds this, in ms.
        max_queue_wait_ms = 10000
        # The longest time limit a call or job attempt of the function gets, in milliseconds.
        time_limit_ms = 60000

        """
}
