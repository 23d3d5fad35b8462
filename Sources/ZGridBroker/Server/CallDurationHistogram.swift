import Prometheus

/// Call durations counted in fixed buckets, rendered as one series of a Prometheus histogram.
///
/// The broker records one duration per call on its loop thread. swift-prometheus's histogram takes
/// a lock and compares against every bucket for each value; this one finds the first bucket that
/// holds the value, bumps one counter and renders the cumulative counts only when scraped.
struct CallDurationHistogram {
    /// The upper bounds, ascending, in nanoseconds.
    let bounds: [Int64]
    /// Per bucket (the last one is +Inf): values above the previous bound, at most this bound.
    private var counts: [Int]
    private(set) var count = 0
    private(set) var sumNanoseconds: Int64 = 0

    /// An empty histogram with `bounds` (ascending) as its bucket upper bounds.
    init(bounds: [Duration]) {
        self.bounds = bounds.map { Self.nanoseconds($0) }
        counts = Array(repeating: 0, count: bounds.count + 1)
    }

    /// Counts one call that took `nanoseconds`.
    mutating func record(nanoseconds: Int64) {
        var index = 0
        while index < bounds.count, bounds[index] < nanoseconds { index += 1 }
        counts[index] += 1
        count += 1
        sumNanoseconds &+= nanoseconds
    }

    /// Appends this series in the Prometheus text format: `NAME_bucket` lines with cumulative
    /// counts (`le` in seconds, then `+Inf`), `NAME_sum` in seconds and `NAME_count`. `labels` is
    /// the rendered label list without braces, such as `function="resize"`.
    func emit(name: String, labels: String, into buffer: inout [UInt8]) {
        var cumulative = 0
        for (index, bound) in bounds.enumerated() {
            cumulative += counts[index]
            let le = Duration.nanoseconds(bound).bucketRepresentation
            buffer.append(contentsOf: "\(name)_bucket{\(labels),le=\"\(le)\"} \(cumulative)\n".utf8)
        }
        buffer.append(contentsOf: "\(name)_bucket{\(labels),le=\"+Inf\"} \(count)\n".utf8)
        buffer.append(contentsOf: "\(name)_sum{\(labels)} \(Duration.nanoseconds(sumNanoseconds).bucketRepresentation)\n".utf8)
        buffer.append(contentsOf: "\(name)_count{\(labels)} \(count)\n".utf8)
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
