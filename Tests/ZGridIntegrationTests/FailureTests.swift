import Foundation
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZGridWorker
import ZeroMQ

extension IntegrationTests {
    @Suite("Failures reach the caller as typed errors", .serialized, .timeLimit(.minutes(2)))
    struct FailureTests {
        @Test("a function no worker serves fails with unknownFunction after the grace period")
        func unknownFunction() async throws {
            let broker = try startBroker(graceMilliseconds: 200)
            defer { broker.stop() }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let started = Date()
            await #expect(throws: GridError.self) { _ = try await client.call("nobody-serves-this") }
            do {
                _ = try await client.call("nobody-serves-this")
                Issue.record("expected unknownFunction")
            } catch {
                guard case .unknownFunction = error else { Issue.record("expected unknownFunction, got \(error)"); return }
            }
            #expect(Date().timeIntervalSince(started) >= 0.15)
            await client.close()
        }

        @Test("a call whose limit ends within the grace period, with no worker for its function, fails as unknown function")
        func unknownFunctionWithinGrace() async throws {
            let broker = try startBroker(graceMilliseconds: 10_000)
            defer { broker.stop() }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            // The broker's verdict at the deadline, not the client's own timer (which would say timeout).
            for _ in 0..<3 {
                do {
                    _ = try await client.call("nobody-serves-this", timeout: .milliseconds(100))
                    Issue.record("expected unknownFunction")
                } catch {
                    guard case .unknownFunction = error else { Issue.record("expected unknownFunction, got \(error)"); return }
                }
            }
            await client.close()
        }

        @Test("a call past its time limit fails with timeout and its handler is cancelled")
        func timeout() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let cancelled = Counter()
            let worker = try await startWorker(broker) { worker in
                worker.register("forever") { _ in
                    do { try await Task.sleep(for: .seconds(30)) } catch { cancelled.increment(); throw error }
                    return []
                }
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            do {
                _ = try await client.call("forever", timeout: .milliseconds(200))
                Issue.record("expected timeout")
            } catch {
                // The broker's timer and the client's race (the client's starts first, when it sends
                // the call); both say the same.
                #expect(error == .timeout("'forever' did not finish within its time limit"))
            }
            try await waitUntil("handler cancelled") { cancelled.count == 1 }
            await client.close()
            await worker.stop()
        }

        @Test("a call no broker answers times out on the client's own timer with the words the broker uses")
        func clientTimerTimeout() async throws {
            let context = try Context()
            let router = try Socket(context, type: .router)
            try router.bind("tcp://127.0.0.1:0")
            let endpoint = try router.lastEndpoint()
            // The default heartbeat: the silent peer is not taken for gone within the call's limit.
            let client = try GridClient(broker: endpoint)
            let started = ContinuousClock.now
            do {
                _ = try await client.call("echo", bytes("x"), timeout: .milliseconds(300))
                Issue.record("expected timeout")
            } catch {
                #expect(error == .timeout("'echo' did not finish within its time limit"))
            }
            #expect(ContinuousClock.now - started < .seconds(2), "ended at the call's limit")
            var commands: [UInt8] = []
            while let frames = try router.receiveFrames(blocking: false) { if frames.count > 2 { commands += frames[2] } }
            #expect(commands.contains(ClientCommand.call.rawValue), "the CALL reached the peer, which never answered")
            await client.close()
        }

        @Test("an error thrown by a handler reaches the caller with its message")
        func handlerError() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            struct Refused: Error, CustomStringConvertible { var description: String { "refused: quota exceeded" } }
            let worker = try await startWorker(broker) { worker in
                worker.register("fails") { _ in throw Refused() }
                worker.register("picky") { _ in throw HandlerFailure(.malformed, "need a number") }
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            do {
                _ = try await client.call("fails")
                Issue.record("expected handlerError")
            } catch {
                #expect(error == .handlerError("refused: quota exceeded"))
            }
            do {
                _ = try await client.call("picky")
                Issue.record("expected malformed")
            } catch {
                #expect(error == .malformed("need a number"))
            }
            await client.close()
            await worker.stop()
        }

        /// An error with a user-facing text of its own.
        struct QuotaExceeded: LocalizedError { var errorDescription: String? { "quota exceeded for tenant 7" } }
        /// Errors with no text of their own.
        enum StoreFailure: Error { case timeout, refused(code: Int) }

        @Test("a LocalizedError reaches the caller as its errorDescription, an error without a text of its own named with its type")
        func handlerErrorTypes() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let worker = try await startWorker(broker) { worker in
                worker.register("quota") { _ in throw QuotaExceeded() }
                worker.register("timeout") { _ in throw StoreFailure.timeout }
                worker.register("refused") { _ in throw StoreFailure.refused(code: 5) }
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let named = "ZGridIntegrationTests.IntegrationTests.FailureTests.StoreFailure"
            let expected: [(String, GridError)] = [
                ("quota", .handlerError("quota exceeded for tenant 7")),
                // Not a bare "timeout", which reads as the grid's own timeout.
                ("timeout", .handlerError("\(named).timeout")),
                ("refused", .handlerError("\(named).refused(code: 5)")),
            ]
            for (function, error) in expected {
                let result = await outcome { () async throws(GridError) in try await client.call(function, timeout: .seconds(5)) }
                #expect(throws: error) { try result.get() }
            }
            await client.close()
            await worker.stop()
        }

        @Test("cancelling the calling task cancels the call and the handler")
        func cancellation() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let started = Counter()
            let cancelled = Counter()
            let worker = try await startWorker(broker) { worker in
                worker.register("long") { _ in
                    started.increment()
                    do { try await Task.sleep(for: .seconds(30)) } catch { cancelled.increment(); throw error }
                    return []
                }
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let call = Task { try await client.call("long") }
            try await waitUntil("handler started") { started.count == 1 }
            call.cancel()
            let result = await call.result
            #expect(throws: GridError.cancelled) { try result.get() }
            try await waitUntil("handler cancelled") { cancelled.count == 1 }
            try await waitUntil("broker forgot the call") { broker.status.callsInFlight == 0 }
            await client.close()
            await worker.stop()
        }

        @Test("invalid arguments are refused before anything is sent")
        func invalidArguments() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            await #expect(throws: GridError.self) { _ = try await client.call("bad name!") }
            await #expect(throws: GridError.self) { _ = try await client.call("echo", priority: 12) }
            for timeout: Duration in [.zero, .microseconds(999), .seconds(-1), .seconds(Int64.max), .seconds(Int64.min)] {
                await #expect(throws: GridError.self, "timeout \(timeout)") { _ = try await client.call("echo", timeout: timeout) }
            }
            // Run-at times past the end of year 9999 (or no time at all) are refused before the store is asked.
            for options in [
                JobOptions(delay: .seconds(Int64.max)), JobOptions(delay: .seconds(300_000_000_000)),
                JobOptions(runAt: Date(timeIntervalSince1970: 1e300)), JobOptions(runAt: Date(timeIntervalSince1970: .nan)),
            ] {
                await #expect("\(options)") { _ = try await client.submit("echo", options: options) } throws: { error in
                    guard case .invalidArgument(let message) = error as? GridError else { return false }
                    return message.contains("year 9999")
                }
            }
            // A negative delay is refused, not taken as "now": nothing runs before its submit.
            await #expect { _ = try await client.submit("echo", options: JobOptions(delay: .milliseconds(-5000))) } throws: { error in
                guard case .invalidArgument(let message) = error as? GridError else { return false }
                return message.contains("is negative")
            }
            // Negative or out-of-range durations are refused, not clamped to something else.
            for options in [
                JobOptions(backoff: .milliseconds(-1)), JobOptions(backoff: .seconds(Int64.max)), JobOptions(timeLimit: .zero),
                JobOptions(timeLimit: .milliseconds(-5)), JobOptions(timeLimit: .seconds(5_000_000)), JobOptions(resultTTL: .seconds(-1)),
                JobOptions(resultTTL: .zero), JobOptions(resultTTL: .milliseconds(999)),
                JobOptions(resultTTL: .seconds(Int64(UInt32.max) + 1)),
            ] {
                await #expect("\(options)") { _ = try await client.submit("echo", options: options) } throws: { error in
                    guard case .invalidArgument(let message) = error as? GridError else { return false }
                    return message.contains("is outside")
                }
            }
            #expect(throws: GridError.self) { _ = try GridClient(broker: "nonsense://x", heartbeat: testHeartbeat) }
            await client.close()
            await #expect(throws: GridError.closed) { _ = try await client.call("echo") }
        }
    }
}
