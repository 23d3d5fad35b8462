import ZGridProtocol

extension BrokerCore {
    /// Every registered worker, for the status report.
    public func workerSummaries() -> [StatusReport.Worker] {
        workers.map { peer, worker in
            StatusReport.Worker(
                id: peer.description, functions: worker.functions.filter(Self.isFunctionName).sorted(),
                capacity: worker.capacity, inFlight: worker.inFlight.count, jobsInFlight: worker.jobsInFlight, draining: worker.draining)
        }.sorted { $0.id < $1.id }
    }

    /// Load of each function a client can name: workers, their capacity, slots in use, calls waiting.
    public func functionLoads() -> [String: (workers: Int, capacity: Int, inFlight: Int, queued: Int)] {
        var loads: [String: (workers: Int, capacity: Int, inFlight: Int, queued: Int)] = [:]
        for (name, service) in services where Self.isFunctionName(name) {
            var load = (workers: service.workers.count, capacity: 0, inFlight: 0, queued: service.waitingCount)
            for peer in service.workers {
                guard let worker = workers[peer] else { continue }
                load.capacity += worker.capacity
                load.inFlight += worker.inFlight.count
            }
            loads[name] = load
        }
        return loads
    }

    /// Queued jobs by priority.
    public var queuedJobsByPriority: [String: Int] {
        var counts: [String: Int] = [:]
        for entry in jobs.values where entry.record.state == .queued { counts["\(entry.record.priority)", default: 0] += 1 }
        return counts
    }

    /// The value of one lower-case hexadecimal digit.
    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    /// Milliseconds since the core started, at `now`.
    public func uptime(at now: Int64) -> Int64 { now - startedAt }

    /// Stops sending new work to the worker whose id is `hex` (as in the status report); its running
    /// calls finish. Returns false when no worker has that id.
    public mutating func drainWorker(named hex: String, now: Int64, into actions: inout [BrokerAction]) -> Bool {
        // Parse the hexadecimal id and look it up, instead of formatting every worker's id.
        let digits = Array(hex.lowercased().utf8)
        guard digits.count % 2 == 0, digits.count <= 512 else { return false }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = Self.hexValue(digits[index]), let low = Self.hexValue(digits[index + 1]) else { return false }
            bytes.append(high << 4 | low)
        }
        let peer = PeerID(bytes)
        guard workers[peer] != nil else { return false }
        if workers[peer]?.draining == false {
            workers[peer]?.heldByOperator = true
            startDraining(peer, now: now, into: &actions)
        }
        return true
    }
}

extension BrokerStatistics {
    /// Every counter with its name, in the order of ``appendValues(to:)``.
    static let fields: [(name: String, value: KeyPath<BrokerStatistics, Int> & Sendable)] = [
        ("calls_received", \.callsReceived), ("calls_succeeded", \.callsSucceeded), ("calls_failed", \.callsFailed),
        ("parts_succeeded", \.partsSucceeded), ("parts_failed", \.partsFailed), ("scatters_failed", \.scattersFailed),
        ("calls_retried", \.callsRetried), ("calls_cancelled", \.callsCancelled), ("scatters_received", \.scattersReceived),
        ("jobs_accepted", \.jobsAccepted), ("jobs_succeeded", \.jobsSucceeded), ("jobs_retried", \.jobsRetried),
        ("jobs_dead", \.jobsDead), ("jobs_cancelled", \.jobsCancelled), ("malformed_messages", \.malformedMessages),
        ("protocol_violations", \.protocolViolations), ("unknown_worker_messages", \.unknownWorkerMessages),
        ("workers_joined", \.workersJoined), ("workers_lost", \.workersLost), ("workers_refused", \.workersRefused),
        ("progress_published", \.progressPublished), ("jobs_deferred", \.jobsDeferred), ("jobs_swept", \.jobsSwept),
        ("admission_refusals", \.admissionRefusals), ("jobs_superseded", \.jobsSuperseded),
        ("batches_dispatched", \.batchesDispatched), ("progress_coalesced", \.progressCoalesced),
        ("schedule_slots_coalesced", \.scheduleSlotsCoalesced),
    ]

    /// The counters' names, in the order of ``appendValues(to:)``.
    static let names = fields.map(\.name)

    /// Appends every counter's value to `values`, in the order of ``names``: what the loop
    /// publishes about every 20 ms, read without building a dictionary.
    func appendValues(to values: inout [Int]) {
        for field in Self.fields { values.append(self[keyPath: field.value]) }
    }

    /// The counters by name, for status reports and metrics.
    public var named: [String: Int] {
        Dictionary(uniqueKeysWithValues: Self.fields.lazy.map { ($0.name, self[keyPath: $0.value]) })
    }
}
