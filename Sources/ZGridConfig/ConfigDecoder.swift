import TOMLKit

/// Turns TOML text into a validated ``ClusterConfig``.
enum ConfigDecoder {
    /// The top-level sections, as written in the file.
    static let knownSections = [
        "broker": "[broker]", "pool": "[[pool]]", "jobs": "[jobs]", "schedule": "[[schedule]]", "security": "[security]",
        "events": "[events]", "function": "[[function]]", "shedding": "[shedding]",
    ]

    /// Parses `text` and validates every section and key; `file` is used in errors. With
    /// `poolFunctions`, the functions of the `[[pool]]` tables must be among those.
    static func decode(_ text: String, file: String, poolFunctions: PoolFunctionLimit? = nil) throws(ConfigError) -> ClusterConfig {
        let root = try parseTOML(text, file: file)
        let locator = KeyLocator(text: text)
        func reader(_ table: TOMLTable, _ location: TableLocation) -> TableReader {
            TableReader(table: table, location: location, file: file, locator: locator)
        }
        func error(_ path: [String], _ key: String, _ message: String) -> ConfigError {
            ConfigError(file: file, line: locator.line(for: path), key: key, message: message)
        }

        try rejectUnknownSections(root, file: file, locator: locator)

        var broker = BrokerSettings()
        if let value = root["broker"] {
            guard let table = value.table else {
                throw error(["broker"], "broker", "expected a [broker] table, got \(ValueDescription.of(value))")
            }
            broker = try BrokerSettings(reading: reader(table, .broker))
        }

        var jobs = JobsSettings()
        if let value = root["jobs"] {
            guard let table = value.table else {
                throw error(["jobs"], "jobs", "expected a [jobs] table, got \(ValueDescription.of(value))")
            }
            jobs = try JobsSettings(reading: reader(table, .jobs))
        }

        var events = EventsSettings()
        if let value = root["events"] {
            guard let table = value.table else {
                throw error(["events"], "events", "expected an [events] table, got \(ValueDescription.of(value))")
            }
            events = try EventsSettings(reading: reader(table, .events))
        }

        var shedding = SheddingSettings()
        if let value = root["shedding"] {
            guard let table = value.table else {
                throw error(["shedding"], "shedding", "expected a [shedding] table, got \(ValueDescription.of(value))")
            }
            shedding = try SheddingSettings(reading: reader(table, .shedding))
        }

        var functions: [FunctionSettings] = []
        if let value = root["function"] {
            guard let array = value.array else {
                throw error(["function"], "function", "expected an array of [[function]] tables, got \(ValueDescription.of(value))")
            }
            for (index, element) in array.enumerated() {
                let location = TableLocation.function(index)
                guard let table = element.table else {
                    throw error(location.path, location.display, "expected a [[function]] table, got \(ValueDescription.of(element))")
                }
                let function = try FunctionSettings(reading: reader(table, location))
                if functions.contains(where: { $0.name == function.name }) {
                    throw reader(table, location).error(
                        "name", "expected each function in one [[function]] table, got \(String(reflecting: function.name)) twice")
                }
                functions.append(function)
            }
        }

        var pools: [PoolSettings] = []
        if let value = root["pool"] {
            guard let array = value.array else {
                let got = value.table != nil ? "a single [pool] table (write the header as [[pool]])" : ValueDescription.of(value)
                throw error(["pool"], "pool", "expected an array of [[pool]] tables, got \(got)")
            }
            for (index, element) in array.enumerated() {
                let location = TableLocation.pool(index)
                guard let table = element.table else {
                    throw error(location.path, location.display, "expected a [[pool]] table, got \(ValueDescription.of(element))")
                }
                let pool = try PoolSettings(reading: reader(table, location), limit: poolFunctions)
                if let first = pools.firstIndex(where: { $0.name == pool.name }) {
                    let firstLine = locator.line(for: TableLocation.pool(first).path + ["name"]).map { " on line \($0)" } ?? ""
                    throw reader(table, location).error(
                        "name",
                        "expected a unique pool name, got \(String(reflecting: pool.name)) which pool[\(first)]\(firstLine) already uses"
                    )
                }
                if let conflict = poolFunctions?.shardConflict(of: pool, with: pools) {
                    throw shardConflictError(conflict, reader(table, location), pools: pools, locator: locator)
                }
                if let conflict = poolFunctions?.seedConflict(of: pool, with: pools) {
                    throw seedConflictError(conflict, reader(table, location), pools: pools, locator: locator)
                }
                pools.append(pool)
            }
        }
        var security = SecuritySettings()
        if let value = root["security"] {
            guard let table = value.table else {
                throw error(["security"], "security", "expected a [security] table, got \(ValueDescription.of(value))")
            }
            security = try SecuritySettings(reading: reader(table, .security))
        }

        var schedules: [ScheduleSettings] = []
        if let value = root["schedule"] {
            guard let array = value.array else {
                throw error(["schedule"], "schedule", "expected an array of [[schedule]] tables, got \(ValueDescription.of(value))")
            }
            for (index, element) in array.enumerated() {
                let location = TableLocation.schedule(index)
                guard let table = element.table else {
                    throw error(location.path, location.display, "expected a [[schedule]] table, got \(ValueDescription.of(element))")
                }
                let schedule = try ScheduleSettings(reading: reader(table, location))
                if schedules.contains(where: { $0.name == schedule.name }) {
                    throw reader(table, location).error(
                        "name", "expected a unique schedule name, got \(String(reflecting: schedule.name)) twice")
                }
                schedules.append(schedule)
            }
        }
        if !schedules.isEmpty && jobs.store.isEmpty {
            // A schedule submits a stored job at each slot: a broker without a store would never fire it.
            let storeLine = locator.line(for: ["jobs", "store"]).map { " on line \($0)" } ?? ""
            throw error(
                TableLocation.schedule(0).path, TableLocation.schedule(0).display,
                "expected a job store for recurring jobs (each slot submits a stored job), but [jobs] store = \"\"\(storeLine) runs the broker without one"
            )
        }
        return ClusterConfig(
            broker: broker, pools: pools, jobs: jobs, schedules: schedules, security: security, events: events, functions: functions,
            shedding: shedding)
    }

    /// Parses the TOML syntax, reporting syntax errors with their line.
    private static func parseTOML(_ text: String, file: String) throws(ConfigError) -> TOMLTable {
        do {
            return try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            let line = error.source.begin.line
            throw ConfigError(
                file: file,
                line: line > 0 ? line : nil,
                message: "invalid TOML at column \(error.source.begin.column): \(error.description)"
            )
        } catch {
            throw ConfigError(file: file, message: "invalid TOML: \(error)")
        }
    }

    /// Throws for the first top-level key (in file order) that is not a known section.
    private static func rejectUnknownSections(_ root: TOMLTable, file: String, locator: KeyLocator) throws(ConfigError) {
        let unknown = root.keys.filter { knownSections[$0] == nil }
            .sorted { (locator.line(for: [$0]) ?? .max, $0) < (locator.line(for: [$0]) ?? .max, $1) }
        guard let key = unknown.first else { return }
        let known = knownSections.keys.sorted()
        let hint = Suggestion.closest(to: key, among: known).map { " (did you mean \(knownSections[$0]!)?)" } ?? ""
        let kind = root[key]?.table != nil || root[key]?.array != nil ? "section" : "top-level key"
        throw ConfigError(
            file: file,
            line: locator.line(for: [key]),
            key: key,
            message: "unknown \(kind) \(String(reflecting: key))\(hint); expected only the sections "
                + known.compactMap { knownSections[$0] }.joined(separator: " and ")
        )
    }
}
