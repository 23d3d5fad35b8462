import Foundation

/// The keys of a job, in the JSON keys frame of ENQUEUE (each optional, each at most 255 bytes).
public struct JobKeys: Sendable, Codable, Equatable {
    /// Coalescing: while a job with this key is unfinished, a submit with the same key returns its id.
    public var unique: String?
    /// Superseding: a submit with this key cancels the queued (not yet running) job with the same key.
    public var replace: String?
    /// Fairness (a user, a tenant): queued jobs of one priority take turns by this key.
    public var fairness: String?
    /// Batching: jobs of a batch-capable function with the same batch key may run as one batch.
    public var batch: String?

    /// Creates keys.
    public init(unique: String? = nil, replace: String? = nil, fairness: String? = nil, batch: String? = nil) {
        self.unique = unique
        self.replace = replace
        self.fairness = fairness
        self.batch = batch
    }

    /// The longest key accepted, in bytes.
    public static let maxLength = 255

    /// Whether every key is at most ``maxLength`` bytes and not empty.
    public var isValid: Bool {
        [unique, replace, fairness, batch].allSatisfy { key in key.map { !$0.isEmpty && $0.utf8.count <= Self.maxLength } ?? true }
    }

    /// Reads a keys frame: a JSON object, or empty for no keys; nil when it is not valid JSON for keys.
    public static func decode(_ bytes: [UInt8]) -> JobKeys? {
        if bytes.isEmpty { return JobKeys() }
        return try? JSONDecoder().decode(JobKeys.self, from: Data(bytes))
    }

    /// The keys frame: empty when no key is set, otherwise a JSON object.
    public var encoded: [UInt8] {
        guard unique != nil || replace != nil || fairness != nil || batch != nil else { return [] }
        return (try? JSONEncoder().encode(self)).map(Array.init) ?? []
    }
}
