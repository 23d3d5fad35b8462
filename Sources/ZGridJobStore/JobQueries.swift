import GRDB

/// Answers `StoreRead`s and the start-up queries of `recover()`.
enum JobQueries {
    /// Answers `query`; a `.purge` deletes, so it must run inside a transaction.
    static func answer(_ query: StoreRead, in db: Database) throws -> StoreReadResult {
        switch query {
        case .job(let id):
            return .jobs(try fetch(db, where: "id = ?", [id], limit: 1))
        case .jobs(let filter):
            return .jobs(try jobs(matching: filter, in: db))
        case .purge(let states, let finishedBefore, let function, let tag):
            return .purged(try purge(states: states, finishedBefore: finishedBefore, function: function, tag: tag, in: db))
        case .counts:
            return .counts(try counts(in: db))
        case .expire(let now):
            let names = JobState.terminal.map(\.rawValue).sorted()
            try db.execute(
                sql:
                    "DELETE FROM jobs WHERE state IN (\(placeholders(names.count))) AND coalesce(finished_at, updated_at) + result_ttl_ms < ?",
                arguments: StatementArguments(names) + [now])
            return .purged(db.changesCount)
        case .events(let query):
            let (events, oldest) = try EventRow.events(query, in: db)
            return .events(events, oldest: oldest)
        case .expireEvents(let before):
            return .purged(try EventRow.expire(before: before, in: db))
        }
    }

    /// The unfinished jobs (queued, scheduled, running), ascending by id.
    static func unfinished(in db: Database) throws -> [JobRecord] {
        let states = JobState.unfinished.sorted { $0.rawValue < $1.rawValue }
        return try fetch(db, where: "state IN (\(placeholders(states.count)))", StatementArguments(states.map(\.rawValue)))
    }

    /// The highest job id ever written; 0 when none was.
    static func highestID(in db: Database) throws -> Int64 {
        try Int64.fetchOne(
            db,
            sql: """
                SELECT max(coalesce((SELECT max(id) FROM jobs), 0),
                           coalesce((SELECT value FROM store_meta WHERE key = 'max_job_id'), 0))
                """) ?? 0
    }

    /// The last fired slot of every schedule, with its cron expression, by name.
    static func scheduleSlots(in db: Database) throws -> [String: ScheduleSlot] {
        var slots: [String: ScheduleSlot] = [:]
        let rows = try Row.fetchCursor(db, sql: "SELECT name, last_slot, cron FROM schedules")
        while let row = try rows.next() {
            slots[try row.decode(atIndex: 0)] = ScheduleSlot(slot: try row.decode(atIndex: 1), cron: try row.decode(atIndex: 2))
        }
        return slots
    }

    /// The jobs matching `filter`, ascending by id.
    private static func jobs(matching filter: JobFilter, in db: Database) throws -> [JobRecord] {
        var conditions: [String] = []
        var arguments = StatementArguments()
        if let states = filter.states {
            guard !states.isEmpty else { return [] }
            let names = states.map(\.rawValue).sorted()
            conditions.append("state IN (\(placeholders(names.count)))")
            arguments += StatementArguments(names)
        }
        if let function = filter.function {
            conditions.append("function = ?")
            arguments += [function]
        }
        if let tag = filter.tag {
            guard TagsColumn.canHold(tag) else { return [] }
            conditions.append(TagsColumn.containsCondition)
            arguments += [tag]
        }
        if let afterID = filter.afterID {
            conditions.append("id > ?")
            arguments += [afterID]
        }
        let condition = conditions.isEmpty ? "1" : conditions.joined(separator: " AND ")
        return try fetch(db, where: condition, arguments, limit: max(0, filter.limit))
    }

    /// Deletes finished jobs in `states` finished before `finishedBefore`, of `function` and carrying
    /// `tag` when given; returns how many.
    private static func purge(
        states: Set<JobState>, finishedBefore: Int64, function: String?, tag: String?, in db: Database
    ) throws -> Int {
        let names = states.filter(\.isTerminal).map(\.rawValue).sorted()
        guard !names.isEmpty else { return 0 }
        if let tag, !TagsColumn.canHold(tag) { return 0 }
        var sql = """
            DELETE FROM jobs WHERE state IN (\(placeholders(names.count)))
            AND coalesce(finished_at, updated_at) < ?
            """
        var arguments = StatementArguments(names) + [finishedBefore]
        if let function {
            sql += " AND function = ?"
            arguments += [function]
        }
        if let tag {
            sql += " AND \(TagsColumn.containsCondition)"
            arguments += [tag]
        }
        try db.cachedStatement(sql: sql).execute(arguments: arguments)
        return db.changesCount
    }

    /// The number of jobs in each state; every state is a key.
    private static func counts(in db: Database) throws -> [JobState: Int] {
        var counts = Dictionary(uniqueKeysWithValues: JobState.allCases.map { ($0, 0) })
        let rows = try Row.fetchCursor(db.cachedStatement(sql: "SELECT state, count(*) FROM jobs GROUP BY state"))
        while let row = try rows.next() {
            if let state = JobState(rawValue: try row.decode(atIndex: 0)) {
                counts[state] = try row.decode(atIndex: 1)
            }
        }
        return counts
    }

    /// The jobs of `jobs` matching `condition`, ascending by id, at most `limit` (nil: all).
    private static func fetch(
        _ db: Database, where condition: String, _ arguments: StatementArguments, limit: Int? = nil
    ) throws -> [JobRecord] {
        var sql = "SELECT \(JobRow.columns) FROM jobs WHERE \(condition) ORDER BY id"
        var arguments = arguments
        if let limit {
            sql += " LIMIT ?"
            arguments += [limit]
        }
        let rows = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
        var jobs: [JobRecord] = []
        while let row = try rows.next() {
            jobs.append(try JobRow.decode(row))
        }
        return jobs
    }

    /// `count` comma-separated SQL placeholders.
    private static func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ", ")
    }
}
