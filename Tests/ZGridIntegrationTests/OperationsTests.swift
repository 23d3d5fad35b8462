import Foundation
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZGridWorker
import ZeroMQ

extension IntegrationTests {
    @Suite("Operating the grid: status, drain, metrics", .serialized, .timeLimit(.minutes(2)))
    struct OperationsTests {
        @Test("the status report shows workers, per-function counts and latency; drain stops new work")
        func statusAndDrain() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let worker = try await startWorker(broker, concurrency: 3) { $0.register("echo") { $0.payload } }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            for index in 0..<50 { _ = try await client.call("echo", bytes("\(index)")) }
            await #expect(throws: GridError.self) { _ = try await client.call("echo-missing", timeout: .milliseconds(500)) }
            let report = try await client.brokerStatus()
            let echo = try #require(report.functions.first { $0.name == "echo" })
            #expect(echo.succeeded == 50)
            #expect(echo.workers == 1)
            #expect(echo.capacity == 3)
            #expect(echo.p50Microseconds > 0 && echo.p99Microseconds >= echo.p50Microseconds)
            // A name no worker serves is not tracked on its own (invented names cannot grow the broker).
            #expect(report.functions.first { $0.name == "echo-missing" } == nil)
            #expect(report.functions.first { $0.name == StatusReport.Function.otherName }?.failed == 1)
            #expect(report.workers.count == 1)
            #expect(report.counters["calls_succeeded"] == 50)
            let id = report.workers[0].id
            #expect(try await client.drain(worker: id))
            #expect(try await client.drain(worker: "00ff00ff00") == false)
            let drained = try await client.brokerStatus()
            #expect(drained.workers.first?.draining == true)
            await #expect(throws: GridError.self) { _ = try await client.call("echo", timeout: .milliseconds(300)) }
            await client.close()
            await worker.stop()
        }

        @Test("a metrics endpoint that cannot be bound stops the broker at start, as a busy broker endpoint does")
        func metricsEndpointInUse() throws {
            let context = try Context()
            let holder = try Socket(context, type: .stream)
            try holder.bind("tcp://127.0.0.1:0")
            let taken = try holder.lastEndpoint()
            #expect {
                _ = try BrokerServer.start(
                    BrokerConfiguration(
                        endpoints: ["tcp://127.0.0.1:0"], options: BrokerOptions(heartbeat: testHeartbeat), metricsEndpoint: taken),
                    logger: quietLogger("test.broker"))
            } throws: { error in
                guard case .bindFailed(let endpoint, _) = error as? BrokerError else { return false }
                return endpoint == taken
            }
        }

        @Test("the metrics endpoint serves Prometheus text with per-function counters and latency histograms")
        func metricsEndpoint() async throws {
            let port = try freePort()
            let options = BrokerOptions(heartbeat: testHeartbeat)
            let broker = try BrokerServer.start(
                BrokerConfiguration(endpoints: ["tcp://127.0.0.1:0"], options: options, metricsEndpoint: "tcp://127.0.0.1:\(port)"),
                logger: quietLogger("test.broker"))
            defer { broker.stop() }
            let worker = try await startWorker(broker) { $0.register("resize") { $0.payload } }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            for _ in 0..<10 { _ = try await client.call("resize", bytes("x")) }
            try await Task.sleep(for: .milliseconds(100))
            let text = try await httpGet("http://127.0.0.1:\(port)/metrics")
            #expect(text.contains("zgrid_calls_total{function=\"resize\",outcome=\"ok\"} 10"), "\(text)")
            #expect(text.contains("zgrid_call_duration_seconds_bucket{function=\"resize\""))
            #expect(text.contains("zgrid_workers 1"))
            #expect(text.contains("zgrid_workers_lost_total 0"), "counters still at 0 are exported too")
            await client.close()
            await worker.stop()
        }
    }
}

/// The body of an HTTP GET, fetched with Python's standard library in a child process.
func httpGet(_ url: String) async throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [
        "python3", "-c", "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())",
        url,
    ]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw LaunchError(message: "GET \(url) failed (python exited \(process.terminationStatus))")
    }
    return String(decoding: data, as: UTF8.self)
}
