import ZGridProtocol

/// A request that is safe to send again, with its waiting caller: a job STATUS or WAIT, a JOBS
/// LIST, an ADMIN STATUS. When the connection to the broker drops before its answer came (the
/// broker restarted, or the connection was cut), the client sends it again on the new connection,
/// with the same request id and the time it has left.
final class ResendableRequest: CallWaiter, @unchecked Sendable {
    /// The request's command.
    let command: ClientCommand
    /// The frames after the request id, as first sent.
    private let frames: [[UInt8]]

    init(command: ClientCommand, frames: [[UInt8]], continuation: CallContinuation) {
        self.command = command
        self.frames = frames
        super.init(continuation)
    }

    /// The frames to send again when the request has `milliseconds` left: a job WAIT waits that
    /// long less the time the client allows the broker to answer once the wait is over.
    func frames(timeLeft milliseconds: Int64) -> [[UInt8]] {
        guard isJobWait else { return frames }
        let wait = UInt32(clamping: max(0, milliseconds - GridClient.jobWaitAnswerSlack))
        return [frames[0], frames[1], .bigEndian(wait)]
    }

    /// Whether the request is a job WAIT.
    private var isJobWait: Bool { command == .job && frames.count == 3 && frames[0] == [JobVerb.wait.rawValue] }

    /// When the wait of a job WAIT whose answer is due by `deadline` is over; nil for other requests.
    func waitEnds(deadline: Int64) -> Int64? {
        isJobWait ? deadline - GridClient.jobWaitAnswerSlack : nil
    }
}
