import Foundation
import GRDB

/// How an `EventRecord` maps to a row of the `events` table and back, and the event queries.
enum EventRow {
    /// The columns, in the order of `arguments(for:)` and `decode(_:)`.
    static let columns = "seq, at, kind, job_id, function, tags, worker, attempt, fraction, message, error, result, result_size"

    /// Inserts an event (a seq already present is replaced: the broker never reuses one).
    static let insertSQL = "INSERT OR REPLACE INTO events (\(columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

    /// The arguments of `insertSQL` for `event`.
    static func arguments(for event: EventRecord) -> StatementArguments {
        let values: [(any DatabaseValueConvertible)?] = [
            event.seq, event.at, event.kind, event.job, event.function, TagsColumn.join(event.tags), event.worker, event.attempt,
            event.fraction, event.message, event.error, event.result.map { Data($0) }, event.resultSize,
        ]
        return StatementArguments(values)
    }

    /// The record of a row selected with `columns`.
    static func decode(_ row: Row) throws -> EventRecord {
        EventRecord(
            seq: try row.decode(atIndex: 0), at: try row.decode(atIndex: 1), kind: try row.decode(atIndex: 2),
            job: try row.decode(atIndex: 3), function: try row.decode(atIndex: 4), tags: TagsColumn.split(try row.decode(atIndex: 5)),
            worker: try row.decode(atIndex: 6), attempt: try row.decode(atIndex: 7), fraction: try row.decode(atIndex: 8),
            message: try row.decode(atIndex: 9), error: try row.decode(atIndex: 10),
            result: try row.withUnsafeData(atIndex: 11) { data in data.map { [UInt8]($0) } }, resultSize: try row.decode(atIndex: 12))
    }

    /// The events matching `query`, ascending by seq, and the oldest seq still kept (nil: none kept).
    static func events(_ query: EventQuery, in db: Database) throws -> (events: [EventRecord], oldest: Int64?) {
        let oldest = try Int64.fetchOne(db, sql: "SELECT min(seq) FROM events")
        var alternatives: [String] = []
        var arguments = StatementArguments([query.afterSeq])
        if query.everything {
            alternatives.append("1")
        } else {
            if !query.jobs.isEmpty {
                alternatives.append("job_id IN (\(placeholders(query.jobs.count)))")
                arguments += StatementArguments(query.jobs)
            }
            for tag in query.tags {
                alternatives.append(TagsColumn.containsCondition)
                arguments += [tag]
            }
            if !query.functions.isEmpty {
                alternatives.append("function IN (\(placeholders(query.functions.count)))")
                arguments += StatementArguments(query.functions)
            }
            if query.pool {
                alternatives.append("kind IN (\(placeholders(EventQuery.poolKinds.count)))")
                arguments += StatementArguments(EventQuery.poolKinds)
            }
        }
        guard !alternatives.isEmpty, query.limit > 0 else { return ([], oldest) }
        arguments += [query.limit]
        let sql = """
            SELECT \(columns) FROM events WHERE seq > ? AND (\(alternatives.joined(separator: " OR ")))
            ORDER BY seq LIMIT ?
            """
        let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
        var events: [EventRecord] = []
        while let row = try rows.next() { events.append(try decode(row)) }
        return (events, oldest)
    }

    /// Deletes the events recorded before `before` (wall-clock ms); returns how many. Events are
    /// numbered in time order, so the oldest ones are a prefix of the seq range.
    static func expire(before: Int64, in db: Database) throws -> Int {
        let firstKept = try Int64.fetchOne(db, sql: "SELECT seq FROM events WHERE at >= ? ORDER BY seq LIMIT 1", arguments: [before])
        if let firstKept {
            try db.execute(sql: "DELETE FROM events WHERE seq < ?", arguments: [firstKept])
        } else {
            try db.execute(sql: "DELETE FROM events")
        }
        return db.changesCount
    }

    /// The highest seq ever recorded (0 for none; expiry does not lower it).
    static func highestSeq(in db: Database) throws -> Int64 {
        try Int64.fetchOne(
            db,
            sql: """
                SELECT max(coalesce((SELECT max(seq) FROM events), 0),
                           coalesce((SELECT value FROM store_meta WHERE key = 'max_event_seq'), 0))
                """) ?? 0
    }

    /// The acknowledged position of every named subscription.
    static func positions(in db: Database) throws -> [String: Int64] {
        var positions: [String: Int64] = [:]
        let rows = try Row.fetchCursor(db, sql: "SELECT name, seq FROM subscriptions")
        while let row = try rows.next() { positions[try row.decode(atIndex: 0)] = try row.decode(atIndex: 1) }
        return positions
    }

    /// `count` comma-separated SQL placeholders.
    private static func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ", ")
    }
}
