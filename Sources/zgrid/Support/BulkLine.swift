import ZGridClient
import ZGridConfig

/// One line of a bulk-submit file: a JSON object naming the function and the job's options. A key
/// it does not know is refused (with the likely intended one), so a misspelt option is reported
/// instead of leaving the job with a default.
struct BulkLine: Decodable, Sendable {
    let function: String
    let payload: String?
    let priority: Int?
    let delayMs: Int?
    let maxAttempts: Int?
    let backoffMs: Int?
    let timeLimitMs: Int?
    let resultTtlS: Int?
    let uniqueKey: String?
    let tags: [String]?
    let replaceKey: String?
    let fairnessKey: String?
    let batchKey: String?
    let sheddable: Bool?

    /// The keys a line takes, as written in the file.
    enum Key: String, CodingKey, CaseIterable {
        case function, payload, priority
        case delayMs = "delay_ms"
        case maxAttempts = "max_attempts"
        case backoffMs = "backoff_ms"
        case timeLimitMs = "time_limit_ms"
        case resultTtlS = "result_ttl_s"
        case uniqueKey = "unique_key"
        case tags
        case replaceKey = "replace_key"
        case fairnessKey = "fairness_key"
        case batchKey = "batch_key"
        case sheddable
    }

    /// Any key of the object, to find the ones a line does not take.
    private struct AnyKey: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// A key the line does not take.
    struct UnknownKey: Error, CustomStringConvertible {
        let key: String

        var description: String {
            let known = Key.allCases.map(\.rawValue)
            let hint = Suggestion.closest(to: key, among: known).map { " (did you mean \"\($0)\"?)" } ?? ""
            return "unknown key \"\(key)\"\(hint); a line takes \(known.joined(separator: ", "))"
        }
    }

    init(from decoder: any Decoder) throws {
        let all = try decoder.container(keyedBy: AnyKey.self)
        if let unknown = all.allKeys.first(where: { Key(stringValue: $0.stringValue) == nil }) {
            throw UnknownKey(key: unknown.stringValue)
        }
        let values = try decoder.container(keyedBy: Key.self)
        function = try values.decode(String.self, forKey: .function)
        payload = try values.decodeIfPresent(String.self, forKey: .payload)
        priority = try values.decodeIfPresent(Int.self, forKey: .priority)
        delayMs = try values.decodeIfPresent(Int.self, forKey: .delayMs)
        maxAttempts = try values.decodeIfPresent(Int.self, forKey: .maxAttempts)
        backoffMs = try values.decodeIfPresent(Int.self, forKey: .backoffMs)
        timeLimitMs = try values.decodeIfPresent(Int.self, forKey: .timeLimitMs)
        resultTtlS = try values.decodeIfPresent(Int.self, forKey: .resultTtlS)
        uniqueKey = try values.decodeIfPresent(String.self, forKey: .uniqueKey)
        tags = try values.decodeIfPresent([String].self, forKey: .tags)
        replaceKey = try values.decodeIfPresent(String.self, forKey: .replaceKey)
        fairnessKey = try values.decodeIfPresent(String.self, forKey: .fairnessKey)
        batchKey = try values.decodeIfPresent(String.self, forKey: .batchKey)
        sheddable = try values.decodeIfPresent(Bool.self, forKey: .sheddable)
    }

    /// The job's options: what the line gives, ``JobOptions``' defaults for the rest.
    var options: JobOptions {
        var options = JobOptions(
            delay: delayMs.map { .milliseconds($0) }, timeLimit: timeLimitMs.map { .milliseconds($0) },
            resultTTL: resultTtlS.map { .seconds($0) }, uniqueKey: uniqueKey, replaceKey: replaceKey, fairnessKey: fairnessKey,
            batchKey: batchKey)
        if let priority { options.priority = priority }
        if let maxAttempts { options.maxAttempts = maxAttempts }
        if let backoffMs { options.backoff = .milliseconds(backoffMs) }
        if let tags { options.tags = tags }
        if let sheddable { options.sheddable = sheddable }
        return options
    }
}
