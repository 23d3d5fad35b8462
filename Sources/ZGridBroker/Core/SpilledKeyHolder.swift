import ZGridJobStore

/// What the core keeps of a queued job with a replace key while the job waits only on disk: enough
/// for a later job with the key to supersede it there (see ``BrokerCore/supersedeOnDisk(_:by:into:)``).
struct SpilledKeyHolder {
    /// The job's function.
    let function: String
    /// The job's tags, for its `cancelled` event.
    let tags: [String]
    /// The job's unique key, freed when it is superseded.
    let uniqueKey: String?
    /// The attempts the job has made.
    let attempts: Int

    /// The holder of `record`'s keys.
    init(_ record: JobRecord) {
        function = record.function
        tags = record.tags
        uniqueKey = record.uniqueKey
        attempts = record.attempts
    }
}
