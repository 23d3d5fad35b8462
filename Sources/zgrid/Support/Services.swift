import Dispatch
import ServiceLifecycle
import ZGridBroker
import ZGridWorker

/// A running broker as a swift-service-lifecycle service: a graceful shutdown stops it the
/// broker's way (refuse new work, let calls in flight finish, flush the job store).
struct BrokerService: Service {
    let server: BrokerServer

    func run() async throws {
        await withGracefulShutdownHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                DispatchQueue.global().async {
                    server.wait()
                    continuation.resume()
                }
            }
        } onGracefulShutdown: {
            DispatchQueue.global().async { server.stop() }
        }
    }
}

/// A worker node as a service: a graceful shutdown sends DISCONNECT and lets running handlers finish.
struct WorkerService: Service {
    let worker: Worker

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await worker.run()
        } onGracefulShutdown: {
            worker.stop()
        }
    }
}

/// The worker processes of `zgrid up` as a service: a graceful shutdown stops them (SIGTERM, then
/// SIGKILL after a grace period).
struct SupervisorService: Service {
    let supervisor: Supervisor

    func run() async throws {
        await withGracefulShutdownHandler {
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(200))
            }
        } onGracefulShutdown: {
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                supervisor.stop()
                continuation.resume()
            }
        }
    }
}
