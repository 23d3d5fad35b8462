import Foundation
import GRDB

/// How a `JobRecord` maps to a row of the `jobs` table and back.
enum JobRow {
    /// The columns, in the order of `arguments(for:)` and `decode(_:)`.
    static let columns = """
        id, function, payload, state, priority, attempts, max_attempts, backoff_ms, time_limit_ms, result_ttl_ms, \
        unique_key, tags, run_at, created_at, updated_at, started_at, finished_at, worker, last_error, result, \
        fairness_key, batch_key, replace_key, sheddable
        """

    /// Inserts a job or replaces all its fields. An empty blob binds as NULL in GRDB, hence the
    /// `coalesce(?, X'')` for the payload and the has-result flag for the result.
    static let upsertSQL = """
        INSERT INTO jobs (\(columns))
        VALUES (?, ?, coalesce(?, X''), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
                CASE WHEN ? THEN coalesce(?, X'') END, ?, ?, ?, ?)
        ON CONFLICT(id) DO UPDATE SET
            function = excluded.function, payload = excluded.payload, state = excluded.state,
            priority = excluded.priority, attempts = excluded.attempts, max_attempts = excluded.max_attempts,
            backoff_ms = excluded.backoff_ms, time_limit_ms = excluded.time_limit_ms,
            result_ttl_ms = excluded.result_ttl_ms, unique_key = excluded.unique_key, tags = excluded.tags,
            run_at = excluded.run_at, created_at = excluded.created_at, updated_at = excluded.updated_at,
            started_at = excluded.started_at, finished_at = excluded.finished_at, worker = excluded.worker,
            last_error = excluded.last_error, result = excluded.result, fairness_key = excluded.fairness_key,
            batch_key = excluded.batch_key, replace_key = excluded.replace_key, sheddable = excluded.sheddable
        """

    /// The arguments of `upsertSQL` for `job`.
    static func arguments(for job: JobRecord) -> StatementArguments {
        let values: [(any DatabaseValueConvertible)?] = [
            job.id, job.function, Data(job.payload), job.state.rawValue, job.priority, job.attempts, job.maxAttempts,
            job.backoffMilliseconds, job.timeLimitMilliseconds, job.resultTTLMilliseconds, job.uniqueKey,
            TagsColumn.join(job.tags), job.runAt, job.createdAt, job.updatedAt, job.startedAt, job.finishedAt,
            job.worker, job.lastError, job.result != nil, job.result.map { Data($0) }, job.fairnessKey, job.batchKey,
            job.replaceKey, job.sheddable,
        ]
        return StatementArguments(values)
    }

    /// The record of a row selected with `columns`.
    static func decode(_ row: Row) throws(JobStoreError) -> JobRecord {
        try StoreFailure.mapping {
            let id: Int64 = try row.decode(atIndex: 0)
            let stateName: String = try row.decode(atIndex: 3)
            guard let state = JobState(rawValue: stateName) else {
                throw JobStoreError.database("job \(id) has the unknown state '\(stateName)'")
            }
            var record = JobRecord(
                id: id,
                function: try row.decode(atIndex: 1),
                payload: try bytes(row, 2) ?? [],
                state: state,
                priority: try row.decode(atIndex: 4),
                attempts: try row.decode(atIndex: 5),
                maxAttempts: try row.decode(atIndex: 6),
                backoffMilliseconds: try row.decode(atIndex: 7),
                timeLimitMilliseconds: try row.decode(atIndex: 8),
                resultTTLMilliseconds: try row.decode(atIndex: 9),
                uniqueKey: try row.decode(atIndex: 10),
                tags: TagsColumn.split(try row.decode(atIndex: 11)),
                runAt: try row.decode(atIndex: 12),
                createdAt: try row.decode(atIndex: 13),
                updatedAt: try row.decode(atIndex: 14),
                startedAt: try row.decode(atIndex: 15),
                finishedAt: try row.decode(atIndex: 16),
                worker: try row.decode(atIndex: 17),
                lastError: try row.decode(atIndex: 18),
                result: try bytes(row, 19)
            )
            record.fairnessKey = try row.decode(atIndex: 20)
            record.batchKey = try row.decode(atIndex: 21)
            record.replaceKey = try row.decode(atIndex: 22)
            record.sheddable = try row.decode(atIndex: 23)
            return record
        }
    }

    /// The blob at `index` as bytes; nil for NULL.
    private static func bytes(_ row: Row, _ index: Int) throws -> [UInt8]? {
        try row.withUnsafeData(atIndex: index) { data in data.map { [UInt8]($0) } }
    }
}
