import Synchronization

/// For a command whose request the client library keeps waiting on while no broker answers (`zgrid
/// watch`'s subscription, which rides out broker restarts): calls `expire` when no answer came
/// (``answered()``) within the deadline, so that the command can fail saying no broker answered
/// instead of waiting silently forever. Once an answer came, it never expires.
final class FirstAnswerDeadline: Sendable {
    private let state = Mutex<(answered: Bool, expired: Bool)>((false, false))
    private let timer = Mutex<Task<Void, Never>?>(nil)

    /// Starts the deadline: `expire` runs `milliseconds` from now unless ``answered()`` came first.
    init(milliseconds: Int64, expire: @escaping @Sendable () -> Void) {
        let task = Task {
            try? await Task.sleep(for: .milliseconds(milliseconds))
            guard !Task.isCancelled, self.passUnanswered() else { return }
            expire()
        }
        timer.withLock { $0 = task }
    }

    /// Marks the deadline passed unless an answer came; returns whether it did so.
    private func passUnanswered() -> Bool {
        state.withLock { state in
            guard !state.answered else { return false }
            state.expired = true
            return true
        }
    }

    /// Records that the broker answered: the deadline is lifted.
    func answered() {
        state.withLock { $0.answered = true }
        timer.withLock { $0?.cancel() }
    }

    /// Whether the deadline passed without an answer (and `expire` ran).
    var expired: Bool { state.withLock { $0.expired } }
}
