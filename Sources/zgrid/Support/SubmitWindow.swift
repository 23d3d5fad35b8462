/// How many submits of a bulk run may be in flight at once, adapted to the broker's admission
/// control: a BUSY answer halves the window (down to one), an accepted submit widens it by one (up
/// to the run's `--in-flight`). While the broker refuses, the run then sends about one submit per
/// retry-after time instead of one per line in flight.
actor SubmitWindow {
    private let limit: Int
    private var allowed: Int
    private var active = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    /// A window of `limit` submits, fully open.
    init(limit: Int) {
        self.limit = max(1, limit)
        allowed = self.limit
    }

    /// Waits until a submit may go out, and counts it as in flight.
    func acquire() async {
        if active < allowed && waiting.isEmpty {
            active += 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    /// Ends a submit counted by ``acquire()``: `refused` when the broker answered BUSY.
    func release(refused: Bool) {
        active -= 1
        allowed = refused ? max(1, allowed / 2) : min(limit, allowed + 1)
        while active < allowed, !waiting.isEmpty {
            active += 1
            waiting.removeFirst().resume()
        }
    }

    /// Lets every waiting submit go (the run is stopping; each then finds nothing to do).
    func open() {
        allowed = limit
        active += waiting.count
        for waiter in waiting { waiter.resume() }
        waiting.removeAll()
    }
}
