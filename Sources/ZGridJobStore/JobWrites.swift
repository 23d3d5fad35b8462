import GRDB

/// Applies `StoreWrite`s inside the current transaction, with cached prepared statements.
enum JobWrites {
    /// Applies `writes` in order and returns how many job upserts and deletes they held.
    static func apply(_ writes: some Sequence<StoreWrite>, in db: Database) throws -> Int {
        var jobs = 0
        var highestID: Int64?
        var highestSeq: Int64?
        for write in writes {
            switch write {
            case .upsert(let job):
                let statement = try db.cachedStatement(sql: JobRow.upsertSQL)
                statement.setUncheckedArguments(JobRow.arguments(for: job))
                try statement.execute()
                highestID = max(highestID ?? job.id, job.id)
                jobs += 1
            case .delete(let id):
                try db.cachedStatement(sql: "DELETE FROM jobs WHERE id = ?").execute(arguments: [id])
                jobs += 1
            case .cancelQueued(let id, let error, let at):
                try db.cachedStatement(
                    sql: """
                        UPDATE jobs SET state = ?, last_error = ?, finished_at = ?, updated_at = ?
                        WHERE id = ? AND state = ?
                        """
                ).execute(arguments: [JobState.cancelled.rawValue, error, at, at, id, JobState.queued.rawValue])
                jobs += 1
            case .scheduleFired(let name, let slot, let cron):
                try db.cachedStatement(
                    sql: """
                        INSERT INTO schedules (name, last_slot, cron) VALUES (?, ?, ?)
                        ON CONFLICT(name) DO UPDATE SET last_slot = excluded.last_slot, cron = excluded.cron
                        """
                ).execute(arguments: [name, slot, cron])
            case .event(let event):
                let statement = try db.cachedStatement(sql: EventRow.insertSQL)
                statement.setUncheckedArguments(EventRow.arguments(for: event))
                try statement.execute()
                highestSeq = max(highestSeq ?? event.seq, event.seq)
            case .subscriptionPosition(let name, let seq):
                try db.cachedStatement(
                    sql: """
                        INSERT INTO subscriptions (name, seq) VALUES (?, ?)
                        ON CONFLICT(name) DO UPDATE SET seq = max(seq, excluded.seq)
                        """
                ).execute(arguments: [name, seq])
            }
        }
        if let highestID {
            try raise("max_job_id", to: highestID, in: db)
        }
        if let highestSeq {
            try raise("max_event_seq", to: highestSeq, in: db)
        }
        return jobs
    }

    /// Raises the recorded highest job id or event seq ever written (never lowers it).
    private static func raise(_ key: String, to value: Int64, in db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO store_meta (key, value) VALUES (?, ?)
                ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)
                """
        ).execute(arguments: [key, value])
    }
}
