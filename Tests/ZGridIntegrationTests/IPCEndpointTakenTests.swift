import Foundation
import Testing
import ZGridBroker
import ZGridClient

extension IntegrationTests {
    @Suite("A second broker on an ipc:// endpoint in use", .serialized, .timeLimit(.minutes(1)))
    struct IPCEndpointTakenTests {
        /// `zgrid broker` arguments binding `endpoint` without a job store (whose lock would refuse
        /// a second broker by itself).
        private func brokerArguments(_ endpoint: String) -> [String] {
            ["broker", "--bind", endpoint, "--job-store", "", "--log-level", "error"]
        }

        /// Starts `zgrid broker` on `ipc://DIRECTORY/grid.sock` and waits until it answers; returns
        /// the process and the endpoint.
        private func startBrokerProcess(in directory: TemporaryDirectory) async throws -> (process: Process, endpoint: String) {
            let endpoint = "ipc://\(directory.file("grid.sock"))"
            let process = try launchZGrid(brokerArguments(endpoint))
            do { try await waitForBroker(endpoint) } catch {
                endProcess(process)  // not left holding the socket file after a failed test
                throw error
            }
            return (process, endpoint)
        }

        /// Waits until a broker answers at `endpoint`.
        private func waitForBroker(_ endpoint: String) async throws {
            let client = try GridClient(broker: endpoint, heartbeat: testHeartbeat)
            let deadline = ContinuousClock.now + .seconds(20)
            var answered = false
            while !answered && ContinuousClock.now < deadline {
                answered = (try? await client.brokerStatus()) != nil
                if !answered { try await Task.sleep(for: .milliseconds(50)) }
            }
            await client.close()
            #expect(answered, "no broker answers at \(endpoint)")
        }

        @Test("is refused at start, naming the endpoint, and the first broker keeps it; a killed broker's socket file is replaced")
        func secondBrokerRefused() async throws {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let (first, endpoint) = try await startBrokerProcess(in: directory)
            defer { endProcess(first) }
            // Without the check, libzmq removes the socket file and binds it again: no error at all.
            let second = try await runZGrid(brokerArguments(endpoint), in: directory, seconds: 5)
            #expect(second.status == 1, "\(second)")
            #expect(second.errors.contains("cannot listen on \(endpoint): a broker or another program already listens on "), "\(second)")
            #expect(first.isRunning)
            try await waitForBroker(endpoint)

            // A socket file nobody listens on any more is no obstacle.
            kill(first.processIdentifier, SIGKILL)
            #expect(try await waitForExit(first, seconds: 10))
            #expect(FileManager.default.fileExists(atPath: directory.file("grid.sock")), "a killed broker leaves its socket file")
            let broker = try startBroker(endpoint: endpoint)
            defer { broker.stop() }
            try await waitForBroker(endpoint)
        }
    }
}
