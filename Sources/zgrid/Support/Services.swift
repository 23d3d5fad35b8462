import Foundation
import Logging
import ServiceLifecycle
import ZGridBroker
import ZGridProtocol
import ZGridWorker

/// A running broker as a swift-service-lifecycle service: a graceful shutdown stops it the
/// broker's way (refuse new work, let calls in flight finish, flush the job store).
struct BrokerService: Service {
    let server: BrokerServer

    func run() async throws {
        await withGracefulShutdownHandler {
            await waitOffThePool { server.wait() }
        } onGracefulShutdown: {
            server.requestStop()
        }
    }
}

/// A worker node as a service: a graceful shutdown sends DISCONNECT and lets running handlers finish.
struct WorkerService: Service {
    let worker: Worker
    /// The process id of the supervisor that started this worker (`zgrid up`), if one did: when it
    /// is no longer the worker's parent (it died without stopping its children), the worker stops
    /// the same graceful way, instead of living on as an orphan.
    var supervisor: Int32?
    var logger = Logger(label: "zgrid.worker")

    /// How often the worker checks that its supervisor is still its parent.
    static let supervisorCheckInterval: Duration = .milliseconds(500)

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                if let supervisor {
                    group.addTask {
                        while getppid() == supervisor && !Task.isCancelled { try? await Task.sleep(for: Self.supervisorCheckInterval) }
                        guard !Task.isCancelled else { return }
                        logger.warning("the supervising process \(supervisor) is gone; stopping")
                        worker.stop()
                    }
                }
                try await worker.run()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            worker.stop()
        }
    }
}

/// The worker processes of `zgrid up` as a service: a graceful shutdown stops them (SIGTERM; after
/// `grace` seconds a second SIGTERM, which forces them out; SIGKILL a few seconds later).
struct SupervisorService: Service {
    let supervisor: Supervisor
    /// How long the workers' running calls may take to finish, in seconds.
    let grace: TimeInterval
    /// Runs as soon as a graceful shutdown starts, before the workers are stopped.
    var onShutdown: @Sendable () -> Void = {}

    func run() async throws {
        await withGracefulShutdownHandler {
            try? await gracefulShutdown()
        } onGracefulShutdown: {
            // A worker that crashed just before must not be started again now.
            supervisor.stopRestarting()
            onShutdown()
        }
        await waitOffThePool { supervisor.stop(grace: grace) }
    }
}
