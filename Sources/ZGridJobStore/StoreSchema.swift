import GRDB

/// The tables and indices of the store, created and upgraded by GRDB's migrator.
enum StoreSchema {
    /// The migrations, in order; add new ones at the end, never edit a shipped one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: jobs, schedules, meta") { db in
            try db.execute(sql: version1)
        }
        migrator.registerMigration("v2: events, subscriptions") { db in
            try db.execute(sql: version2)
        }
        migrator.registerMigration("v3: queue control keys") { db in
            try db.execute(sql: version3)
        }
        migrator.registerMigration("v4: the cron expression of each schedule slot") { db in
            try db.execute(sql: version4)
        }
        return migrator
    }

    /// The first schema. `id` is an INTEGER PRIMARY KEY (the rowid) chosen by the broker; `tags` is the
    /// comma-joined list; `result` is NULL for no result.
    /// `store_meta` keeps the highest job id ever written, which deletes and purges cannot lower.
    private static let version1 = """
        CREATE TABLE jobs (
            id INTEGER PRIMARY KEY NOT NULL,
            function TEXT NOT NULL,
            payload BLOB NOT NULL,
            state TEXT NOT NULL,
            priority INTEGER NOT NULL,
            attempts INTEGER NOT NULL,
            max_attempts INTEGER NOT NULL,
            backoff_ms INTEGER NOT NULL,
            time_limit_ms INTEGER NOT NULL,
            result_ttl_ms INTEGER NOT NULL,
            unique_key TEXT,
            tags TEXT NOT NULL,
            run_at INTEGER NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            started_at INTEGER,
            finished_at INTEGER,
            worker TEXT,
            last_error TEXT,
            result BLOB
        );
        CREATE INDEX jobs_by_state ON jobs(state, id);
        CREATE INDEX jobs_by_function ON jobs(function);
        CREATE INDEX jobs_by_unique_key ON jobs(unique_key) WHERE unique_key IS NOT NULL;
        CREATE TABLE schedules (
            name TEXT PRIMARY KEY NOT NULL,
            last_slot INTEGER NOT NULL
        );
        CREATE TABLE store_meta (
            key TEXT PRIMARY KEY NOT NULL,
            value INTEGER NOT NULL
        );
        """

    /// Queue control: fairness, batch and replace keys and the sheddable flag of each job.
    private static let version3 = """
        ALTER TABLE jobs ADD COLUMN fairness_key TEXT;
        ALTER TABLE jobs ADD COLUMN batch_key TEXT;
        ALTER TABLE jobs ADD COLUMN replace_key TEXT;
        ALTER TABLE jobs ADD COLUMN sheddable INTEGER NOT NULL DEFAULT 0;
        """

    /// The cron expression each schedule's last slot was computed from, so that a broker started
    /// with a changed expression does not catch up slots the new one would have had. NULL in rows
    /// of older stores (taken as unchanged).
    private static let version4 = """
        ALTER TABLE schedules ADD COLUMN cron TEXT;
        """

    /// The event log and the positions of named subscriptions. `seq` is the rowid, numbered by the
    /// broker; `store_meta` keeps `max_event_seq`, which expiry cannot lower.
    private static let version2 = """
        CREATE TABLE events (
            seq INTEGER PRIMARY KEY NOT NULL,
            at INTEGER NOT NULL,
            kind TEXT NOT NULL,
            job_id INTEGER,
            function TEXT,
            tags TEXT NOT NULL,
            worker TEXT,
            attempt INTEGER,
            fraction REAL,
            message TEXT,
            error TEXT,
            result BLOB,
            result_size INTEGER
        );
        CREATE INDEX events_by_job ON events(job_id) WHERE job_id IS NOT NULL;
        CREATE TABLE subscriptions (
            name TEXT PRIMARY KEY NOT NULL,
            seq INTEGER NOT NULL
        );
        """
}
