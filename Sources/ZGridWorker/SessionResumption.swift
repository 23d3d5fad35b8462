import ZGridProtocol

/// The worker's side of resumed sessions (see ``SessionResume``): when the broker falls silent for
/// longer than the expiry (it may only have stalled), a worker whose broker announced that it takes
/// resumed sessions keeps its running handlers, connects again and, in its new READY, names its
/// earlier routing identity and the dispatch ids it still runs, so that their answers, sent on the
/// new connection, are taken. Answers it sent since it last heard the broker are sent again there
/// too: the broker may never have read them from the old connection.
struct SessionResumption {
    /// Whether the broker last heard takes READYs that resume a session (its HEARTBEAT said so).
    var brokerResumes = false
    /// Whether this session's READY resumes an earlier one and nothing was heard from the broker
    /// since: a newer session would only compete with it.
    private(set) var awaitsResume = false
    /// The routing identity of the current session.
    private var identity: [UInt8] = []
    /// The routing identity of the session the next READY resumes, when there is one.
    private var previous: [UInt8]?
    /// Answers sent since the broker was last heard.
    private var unheard: [SentAnswer] = []
    /// Answers of the earlier session, to send again on the new one.
    private var resent: [SentAnswer] = []

    /// A fresh routing identity for a new session: 8 bytes, the first `Z` (libzmq keeps identities
    /// that start with a zero byte for those it makes), the rest random.
    mutating func newIdentity() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        identity = [UInt8(ascii: "Z")] + (0..<7).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return identity
    }

    /// Whether the session being left for the broker's silence may be resumed by the next one (its
    /// broker takes resumed sessions and had registered it); if so, the next READY names it.
    mutating func mayResume(registered: Bool) -> Bool {
        guard brokerResumes, registered else { return false }
        previous = identity
        return true
    }

    /// READY's resume frames for the new session (none when it resumes nothing): the earlier
    /// identity, then the dispatch ids of the handlers still `running` and of the answers to send again.
    mutating func resumeFrames(running: [UInt64]) -> [[UInt8]] {
        guard let previous else {
            awaitsResume = false
            return []
        }
        self.previous = nil
        awaitsResume = true
        resent = unheard
        unheard = []
        return SessionResume.frames(previous: previous, running: running + resent.map(\.id))
    }

    /// The answers to send again on the new session, once its READY went out.
    mutating func takeResults() -> [SentAnswer] {
        defer { resent = [] }
        return resent
    }

    /// Keeps an answer sent to a broker that takes resumed sessions, until the broker is heard.
    mutating func sent(_ id: UInt64, _ result: Result<Frames, HandlerFailure>) {
        unheard.append(SentAnswer(id: id, result: result))
    }

    /// The broker was heard: what was sent before is taken to have arrived.
    mutating func heardBroker() {
        awaitsResume = false
        if !unheard.isEmpty { unheard.removeAll(keepingCapacity: true) }
    }

    /// The running handlers were given up: nothing is resumed.
    mutating func abandon() {
        previous = nil
        awaitsResume = false
        unheard = []
        resent = []
    }
}

/// An answer the worker sent, kept in case it must be sent again. (A struct, not a tuple: an array
/// of tuples is emptied through the runtime's generic tuple witnesses, one call per element.)
struct SentAnswer {
    /// The dispatch id it answers.
    let id: UInt64
    /// The answer.
    let result: Result<Frames, HandlerFailure>
}
