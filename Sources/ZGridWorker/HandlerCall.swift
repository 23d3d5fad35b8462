import Foundation
import ZGridProtocol
import ZeroMQ

/// What one handler task runs for a REQUEST, and how its outcome becomes the REPLY's frames.
enum HandlerCall: Sendable {
    /// A plain function: one request in, one reply frame out.
    case single(WorkerHandler, WorkerRequest)
    /// A batch function called with a plain REQUEST: the handler gets one item, the reply is its result.
    case singleItem(BatchHandler, function: String, BatchItem)
    /// A batch function called with a batch REQUEST: one result frame per item.
    case batch(BatchHandler, function: String, [BatchItem])

    /// Prepares the call for a REQUEST whose payload is frames `payload` of `message`; a
    /// failure (a malformed batch) is answered at once, without running anything.
    static func prepare(
        _ registration: Registration, function: String, id: UInt64, header: CallHeader, message: Multipart, payload: Range<Int>,
        reporter: (@Sendable (Double, String) -> Void)?
    ) -> Result<HandlerCall, HandlerFailure> {
        guard !header.isBatch || registration.isBatch else {
            return .failure(HandlerFailure(.malformed, "'\(function)' is not a batch function on this worker"))
        }
        let frames = Frames(message, payload)
        switch registration.body {
        case .single(let handler):
            return .success(.single(handler, WorkerRequest(function: function, id: id, frames: frames, header: header, reporter: reporter)))
        case .inline(let handler):
            // Inline handlers are run by ``runInline(_:function:id:header:message:payload:)``; run as a task, one is a single handler.
            return .success(.single({ try handler($0) }, WorkerRequest(function: function, id: id, frames: frames, header: header)))
        case .batch(let handler, _, _):
            guard header.isBatch else {
                let item = BatchItem(job: header.job ?? 0, attempt: Int(header.attempt), payload: frames.joined)
                return .success(.singleItem(handler, function: function, item))
            }
            let frames = frames.all
            guard let first = frames.first, let items = first.withUnsafeBytes({ BatchItems.decode($0) }) else {
                return .failure(HandlerFailure(.malformed, "the items frame of a batch for '\(function)' is invalid"))
            }
            guard items.count == frames.count - 1 else {
                return .failure(
                    HandlerFailure(
                        .malformed, "a batch for '\(function)' lists \(items.count) items but carries \(frames.count - 1) payload frames"))
            }
            let batch = zip(items, frames.dropFirst()).map { item, payload in
                BatchItem(job: item.job, attempt: Int(item.attempt), payload: payload)
            }
            return .success(.batch(handler, function: function, batch))
        }
    }

    /// Runs an inline handler now, on the calling thread, for the request in frames `payload` of
    /// `message`.
    static func runInline(
        _ handler: InlineHandler, function: String, id: UInt64, header: CallHeader, message: Multipart, payload: Range<Int>
    ) -> Result<Frames, HandlerFailure> {
        do {
            return .success(.one(try handler(WorkerRequest(function: function, id: id, frames: Frames(message, payload), header: header))))
        } catch {
            return .failure(failure(error, function: function))
        }
    }

    /// Runs the handler; returns the REPLY's frames or the failure to answer with ERROR.
    func run() async -> Result<Frames, HandlerFailure> {
        do {
            switch self {
            case .single(let handler, let request):
                return .success(.one(try await handler(request)))
            case .singleItem(let handler, let function, let item):
                let results = try await handler([item])
                guard results.count == 1 else { return .failure(Self.wrongCount(function, results.count, expected: 1)) }
                switch results[0] {
                case .success(let payload): return .success(.one(payload))
                case .failure(let failure): return .failure(failure)
                }
            case .batch(let handler, let function, let items):
                let results = try await handler(items)
                guard results.count == items.count else {
                    return .failure(Self.wrongCount(function, results.count, expected: items.count))
                }
                return .success(
                    .many(
                        results.map { result in
                            switch result {
                            case .success(let payload): BatchResult.success(payload).encoded
                            case .failure(let failure): BatchResult.failure(failure.code, failure.message).encoded
                            }
                        }))
            }
        } catch {
            return .failure(Self.failure(error, function: function))
        }
    }

    /// What the caller gets for an error a handler threw.
    private static func failure(_ error: any Error, function: String) -> HandlerFailure {
        switch error {
        case let failure as HandlerFailure: failure
        case is CancellationError: HandlerFailure(.cancelled, "the handler of '\(function)' was cancelled")
        default: HandlerFailure(.handlerError, message(of: error))
        }
    }

    /// The message a caller gets for an error a handler threw: a `LocalizedError`'s
    /// `errorDescription`, else a `CustomStringConvertible` error's `description`, else the error
    /// named with its type (`MyModule.DBError.timeout`, not a bare `timeout` the caller could take
    /// for the grid's own words).
    static func message(of error: any Error) -> String {
        if let localized = error as? any LocalizedError, let text = localized.errorDescription { return text }
        // Through `Any`: the compiler takes every `any Error` for CustomStringConvertible, so a
        // direct cast would never fall through to the type's name.
        if let described = (error as Any) as? any CustomStringConvertible { return described.description }
        return String(reflecting: error)
    }

    /// The function called.
    var function: String {
        switch self {
        case .single(_, let request): request.function
        case .singleItem(_, let function, _), .batch(_, let function, _): function
        }
    }

    private static func wrongCount(_ function: String, _ count: Int, expected: Int) -> HandlerFailure {
        HandlerFailure(
            .handlerError,
            "the batch handler of '\(function)' returned \(count) results for \(expected) item\(expected == 1 ? "" : "s"); it must return one per item"
        )
    }
}
