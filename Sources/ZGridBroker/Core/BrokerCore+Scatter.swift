import ZGridProtocol

extension BrokerCore {
    /// The routing key that reaches one worker's copy of a function.
    static func pinnedKey(_ function: String, _ peer: PeerID) -> String { "\(function)@\(peer)" }

    /// Why a queued call found no worker, saying which shard when it is one.
    static func noWorkerMessage(_ call: CallRecord) -> String {
        if call.scatter != nil, let shard = call.header.shard {
            return "no worker holds shard \(shard) of '\(call.function)'"
        }
        if call.service.contains("@") { return "the worker of this part of '\(call.function)' left" }
        return "no worker serves function '\(call.function)'"
    }

    /// Why a queued call fails while the broker refuses new work: no worker for it is left, and
    /// none will come.
    static func noWorkerWhileStoppingMessage(_ call: CallRecord) -> String {
        "the broker is stopping and \(noWorkerMessage(call))"
    }

    /// Splits a SCATTER into parts, each a call: one per shard of a sharded function, one per
    /// worker of a plain one (broadcast), or one per input frame (map).
    mutating func acceptScatter(
        from client: PeerID, _ caller: ClientRecord, requestID: UInt64, function: String, header: CallHeader, spec: ScatterSpec,
        payload: PayloadHandle, inputs: Int, now: Int64, into actions: inout [BrokerAction]
    ) {
        let key = ClientCallKey(client: client, requestID: requestID)
        guard isNewRequest(caller, key, payload: payload, into: &actions) else { return }
        statistics.scattersReceived += 1
        guard admitWithinClientLimit(caller, client, requestID, payload: payload, countedIn: \.scattersFailed, into: &actions) else {
            return
        }
        var parts: [(service: String, shard: UInt32?, frame: Int?, retryable: Bool)] = []
        switch spec.mode {
        case .map:
            parts = (0..<inputs).map { (function, nil, $0, true) }
        case .broadcast:
            if let keys = shardKeys[function] {
                parts = keys.enumerated().map { ($0.element, UInt32($0.offset), nil, true) }
            } else {
                let serving = services[function]?.workers ?? []
                parts = serving.map { (Self.pinnedKey(function, $0), nil, nil, false) }
            }
        }
        if parts.isEmpty {
            if spec.mode == .broadcast {
                fail(
                    client, requestID, .unknownFunction, "no worker serves function '\(function)'", payload: payload,
                    countedIn: \.scattersFailed, into: &actions)
            } else {
                actions.append(.release(payload))
                actions.append(
                    .scatterDone(client: client, requestID: requestID, summary: ScatterSummary(parts: 0, succeeded: 0, failed: 0)))
            }
            return
        }
        let scatterID = nextDispatchID
        nextDispatchID += 1
        scatters[scatterID] = ScatterRecord(
            client: client, requestID: requestID, function: function, payload: payload, parts: parts.count,
            needed: spec.needed(of: parts.count))
        scattersByClientKey[key] = scatterID
        caller.scatters += 1
        let deadline = now + timeLimit(header, function: function)
        for (index, part) in parts.enumerated() {
            guard scatters[scatterID] != nil else { break }  // already over (a part failed at once)
            var partHeader = header
            partHeader.shard = part.shard
            partHeader.job = nil
            let record = CallRecord(
                client: client, requestID: requestID, function: function, service: part.service, header: partHeader, payload: payload,
                deadline: deadline, worker: nil, sequence: 0)
            record.scatter = (scatterID, index)
            record.frame = part.frame
            record.retryable = part.retryable
            if (services[part.service]?.workers.isEmpty ?? true) && withoutWorkersPastGrace(part.service, now: now) {
                recordPart(scatterID, part: index, .failure(.unknownFunction, Self.noWorkerMessage(record)), into: &actions)
                continue
            }
            admitPart(record, now: now, into: &actions)
        }
    }

    /// Admits a part (recording it as open before it can finish).
    private mutating func admitPart(_ record: CallRecord, now: Int64, into actions: inout [BrokerAction]) {
        if let (scatterID, _) = record.scatter { scatters[scatterID]?.open.insert(nextDispatchID) }
        _ = admit(record, now: now, into: &actions)
    }

    /// Sends the client one part's outcome and closes the scatter once its gathering is complete.
    mutating func recordPart(_ scatterID: UInt64, part: Int, _ outcome: CallOutcome, into actions: inout [BrokerAction]) {
        guard var scatter = scatters[scatterID] else {
            if case .reply(let payload) = outcome { actions.append(.release(payload)) }
            return
        }
        switch outcome {
        case .reply(let payload):
            scatter.succeeded += 1
            statistics.partsSucceeded += 1
            actions.append(.part(client: scatter.client, requestID: scatter.requestID, index: part, outcome: .success(payload)))
        case .failure(let code, let text):
            scatter.failed += 1
            statistics.partsFailed += 1
            actions.append(.part(client: scatter.client, requestID: scatter.requestID, index: part, outcome: .failure(code, text)))
        case .batch:
            scatter.failed += 1
            statistics.partsFailed += 1
            actions.append(
                .part(
                    client: scatter.client, requestID: scatter.requestID, index: part,
                    outcome: .failure(.internal, "a batch reply to a part")))
        }
        scatters[scatterID] = scatter
        if scatter.isOver { closeScatter(scatterID, answer: true, into: &actions) }
    }

    /// Ends a scatter: cancels parts still open, releases its payload and, with `answer`, sends DONE.
    mutating func closeScatter(_ scatterID: UInt64, answer: Bool, into actions: inout [BrokerAction]) {
        guard let scatter = scatters.removeValue(forKey: scatterID) else { return }
        scattersByClientKey[ClientCallKey(client: scatter.client, requestID: scatter.requestID)] = nil
        if let count = clients[scatter.client]?.scatters, count > 0 { clients[scatter.client]?.scatters = count - 1 }
        for dispatchID in scatter.open.sorted() {
            if let worker = calls[dispatchID]?.worker { actions.append(.cancel(worker: worker, dispatchID: dispatchID)) }
            forget(dispatchID, into: &actions)
        }
        actions.append(.release(scatter.payload))
        if answer {
            actions.append(
                .scatterDone(
                    client: scatter.client, requestID: scatter.requestID,
                    summary: ScatterSummary(parts: scatter.parts, succeeded: scatter.succeeded, failed: scatter.failed)))
        }
    }
}
