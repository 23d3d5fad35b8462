import Foundation
import ZGridProtocol
import ZeroMQ

/// What a broker answered a bare client socket (see ``rawClientAnswers(_:sending:seconds:until:)``).
struct RawAnswer: Sendable, CustomStringConvertible {
    /// The request id the answer names.
    let requestID: UInt64
    /// Its command byte (``ClientCommand``).
    let command: UInt8
    /// For ERROR, its code; 0 otherwise.
    let code: UInt16
    /// For ERROR, its message; otherwise the first frame after the request id, as text.
    let text: String

    var description: String { "request \(requestID): command \(command), code \(code): \(text)" }
}

/// Sends each of `messages` (the frames after the routing envelope: tag, command, request id, …)
/// in order from a bare DEALER socket connected to the broker at `endpoint`, as a client that
/// checks nothing would, then hands each answer other than HEARTBEAT to `until` as it arrives,
/// until `until` returns true or `seconds` have passed. Returns the answers; a socket error ends
/// them with an answer of command 0 saying what failed.
func rawClientAnswers(
    _ endpoint: String, sending messages: [[[UInt8]]], seconds: Double = 30, until: @escaping @Sendable (RawAnswer) -> Bool
) async -> [RawAnswer] {
    await onThread {
        var answers: [RawAnswer] = []
        do {
            let context = try Context()
            let socket = try Socket(context, type: .dealer)
            try socket.setLinger(milliseconds: 0)
            try socket.connect(endpoint)
            for frames in messages { _ = try socket.send(frames: frames, blocking: true) }
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                guard let frames = try socket.receiveFrames(blocking: false) else {
                    usleep(5_000)
                    continue
                }
                guard frames.count >= 3, frames[1] != [ClientCommand.heartbeat.rawValue], frames[2].count == 8 else { continue }
                let answer = RawAnswer(frames)
                answers.append(answer)
                if until(answer) { break }
            }
        } catch {
            answers.append(RawAnswer(requestID: 0, command: 0, code: 0, text: "socket error: \(error)"))
        }
        return answers
    }
}

extension RawAnswer {
    /// Reads an answer from its frames (tag, command, request id, …).
    init(_ frames: [[UInt8]]) {
        requestID = frames[2].withUnsafeBytes { $0.readBigEndianUInt64() }
        command = frames[1].first ?? 0
        let isError = command == ClientCommand.error.rawValue
        code = isError && frames.count > 3 && frames[3].count == 2 ? UInt16(frames[3][0]) << 8 | UInt16(frames[3][1]) : 0
        let textFrame = isError ? 4 : 3
        text = frames.count > textFrame ? String(decoding: frames[textFrame], as: UTF8.self) : ""
    }
}
