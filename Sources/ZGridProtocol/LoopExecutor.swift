import Dispatch
import Synchronization
import ZeroMQ

/// A task executor backed by a poll loop thread: jobs enqueued from any thread run on the loop
/// thread when it calls ``runPendingJobs(signalled:)``.
///
/// Tasks started with this executor as their preference run on the I/O thread itself, so a
/// short handler and the socket that carries its reply meet without a thread switch.
///
/// Once the loop has called ``adoptCurrentThread()``, jobs enqueued from the loop thread wake
/// nothing: the loop must check ``hasPendingJobs`` before it blocks.
public final class LoopExecutor: TaskExecutor, Sendable {
    private let jobs: Mailbox<UnownedJob>
    private let closed = Atomic<Bool>(false)

    /// Creates an executor; its loop must poll ``pollItem`` and call ``runPendingJobs(signalled:)``.
    public init() throws(ZMQError) {
        jobs = try Mailbox()
    }

    /// The poll entry that turns readable when jobs wait.
    public var pollItem: PollItem { jobs.signal.pollItem }

    /// Makes the calling thread the executor's loop thread: jobs it enqueues no longer wake it.
    public func adoptCurrentThread() {
        jobs.adoptCurrentThread()
    }

    /// Whether jobs wait to run.
    public var hasPendingJobs: Bool { jobs.hasItems }

    /// Queues a job for the loop thread.
    public func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        if closed.load(ordering: .acquiring) {
            runElsewhere(unowned)
        } else {
            jobs.post(unowned)
        }
    }

    /// Called when the loop ends: jobs still queued, and any enqueued later, run on a global
    /// dispatch queue instead, so no task waiting on this executor is stranded.
    public func shutdown() {
        closed.store(true, ordering: .releasing)
        var batch: [UnownedJob] = []
        jobs.take(into: &batch, signalled: true)
        for job in batch { runElsewhere(job) }
    }

    private func runElsewhere(_ job: UnownedJob) {
        DispatchQueue.global().async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    /// Runs queued jobs, including jobs they enqueue, until none is left. Call on the loop thread;
    /// `signalled` says whether its poll found ``pollItem`` readable. Returns how many ran.
    @discardableResult
    public func runPendingJobs(signalled: Bool) -> Int {
        var batch: [UnownedJob] = []
        var ran = 0
        var signalled = signalled
        while true {
            jobs.take(into: &batch, signalled: signalled)
            signalled = false
            if batch.isEmpty { return ran }
            for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
            ran += batch.count
            batch.removeAll(keepingCapacity: true)
        }
    }
}
