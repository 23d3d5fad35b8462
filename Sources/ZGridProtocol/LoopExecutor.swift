import Dispatch
import Synchronization
import ZeroMQ

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A task executor backed by a poll loop thread: jobs enqueued from any thread run on the loop
/// thread when it calls ``runPendingJobs()``.
///
/// Tasks started with this executor as their preference run on the I/O thread itself, so a
/// short handler and the socket that carries its reply meet without a thread switch.
public final class LoopExecutor: TaskExecutor, Sendable {
    private let jobs: Mailbox<UnownedJob>
    private let closed = Atomic<Bool>(false)
    /// The loop thread while it runs ``runPendingJobs()``, else 0.
    private let runningOn = Atomic<UInt>(0)

    /// Creates an executor; its loop must poll ``pollItem`` and call ``runPendingJobs()``.
    public init() throws(ZMQError) {
        jobs = try Mailbox()
    }

    /// The poll entry that turns readable when jobs wait.
    public var pollItem: PollItem { jobs.signal.pollItem }

    /// Queues a job for the loop thread.
    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        if closed.load(ordering: .acquiring) {
            runElsewhere(unowned)
        } else {
            // A job enqueued by a job of this loop runs in the same call of runPendingJobs: no wake-up needed.
            jobs.post(unowned, wake: !isRunningJobsHere)
        }
    }

    /// Whether the calling thread is the loop thread, inside ``runPendingJobs()``: there, what a
    /// job posts to a mailbox the loop takes after running jobs needs no wake-up.
    public var isRunningJobsHere: Bool {
        let current = runningOn.load(ordering: .relaxed)
        return current != 0 && current == Self.currentThread
    }

    private static var currentThread: UInt {
        #if canImport(Darwin)
            UInt(bitPattern: pthread_self())
        #else
            UInt(pthread_self())
        #endif
    }

    /// Called when the loop ends: jobs still queued, and any enqueued later, run on a global
    /// dispatch queue instead, so no task waiting on this executor is stranded.
    public func shutdown() {
        closed.store(true, ordering: .releasing)
        var batch: [UnownedJob] = []
        jobs.take(into: &batch)
        for job in batch { runElsewhere(job) }
    }

    private func runElsewhere(_ job: UnownedJob) {
        DispatchQueue.global().async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    /// Runs queued jobs, including jobs they enqueue, until none is left. Call on the loop thread.
    /// Returns how many ran.
    @discardableResult
    public func runPendingJobs() -> Int {
        runningOn.store(Self.currentThread, ordering: .relaxed)
        defer { runningOn.store(0, ordering: .relaxed) }
        var batch: [UnownedJob] = []
        var ran = 0
        while true {
            jobs.take(into: &batch)
            if batch.isEmpty { return ran }
            for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
            ran += batch.count
            batch.removeAll(keepingCapacity: true)
        }
    }
}
