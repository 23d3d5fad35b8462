import Testing
import ZGridProtocol

@testable import ZGridBroker

/// The completions the core notes for the shell's call counts and durations.
@Suite("Call completions")
struct CallCompletionTests {
    @Test("answered calls are noted with their function and arrival time; cancelled ones and scatters are not")
    func notedOnAnswer() {
        var driver = Driver()
        driver.ready(worker1, ["f"], concurrency: 2)
        driver.core.arrivalNanoseconds = 100
        let first = driver.call(client1, 1).requests[0].dispatchID
        driver.core.arrivalNanoseconds = 200
        let second = driver.call(client1, 2).requests[0].dispatchID
        driver.core.arrivalNanoseconds = 300
        #expect(driver.call(client1, 3).requests.isEmpty, "queued: the worker's credit is taken")
        driver.cancel(client1, 3)
        driver.core.arrivalNanoseconds = 400
        driver.call(client1, 4, "nobody")
        driver.message(
            client2,
            .scatter(
                requestID: 5, function: "f", header: CallHeader(), spec: ScatterSpec(mode: .broadcast, gather: .all),
                payload: driver.payload(), inputs: 1))
        #expect(driver.reply(worker1, first).replies.count == 1)
        #expect(driver.workerError(worker1, second).failures.count == 1)
        let taken = driver.core.completedCalls
        #expect(
            taken == [
                CallCompletion(function: nil, arrivedAt: 400, succeeded: false),
                CallCompletion(function: "f", arrivedAt: 100, succeeded: true),
                CallCompletion(function: "f", arrivedAt: 200, succeeded: false),
            ])
        driver.core.clearCompletedCalls()
        #expect(driver.core.completedCalls.isEmpty, "cleared once counted")
    }

    @Test("a call refused for a full queue, or one timing out in its queue, is noted as failed")
    func notedOnRefusalAndTimeout() {
        var driver = Driver(options: testOptions(maxQueued: 1))
        driver.ready(worker1, ["f"], concurrency: 1)
        driver.core.arrivalNanoseconds = 10
        driver.call(client1, 1)  // runs
        driver.core.arrivalNanoseconds = 20
        driver.call(client1, 2, timeout: 50)  // queued
        driver.core.arrivalNanoseconds = 30
        #expect(driver.call(client1, 3).failures.map(\.code) == [.busy])
        #expect(driver.tick(after: 100).failures.map(\.requestID) == [2])
        let taken = driver.core.completedCalls
        #expect(
            taken == [
                CallCompletion(function: "f", arrivedAt: 30, succeeded: false),
                CallCompletion(function: "f", arrivedAt: 20, succeeded: false),
            ])
    }
}
