import Foundation
import Synchronization
import Testing
import ZGridProtocol
import ZeroMQ

@Suite("Mailboxes between threads and a poll loop")
struct MailboxTests {
    @Test("a post from another thread wakes the loop once; a post from the loop thread wakes nothing but is taken")
    func wakesOnlyFromOtherThreads() throws {
        let mailbox = try Mailbox<Int>()
        var poller = Poller([mailbox.signal.pollItem])
        mailbox.adoptCurrentThread()
        #expect(mailbox.isLoopThread)
        mailbox.post(1)
        #expect(mailbox.hasItems)
        #expect(try poller.poll(timeoutMilliseconds: 0) == 0, "the loop's own post does not signal")
        var taken: [Int] = []
        mailbox.take(into: &taken, signalled: false)
        #expect(taken == [1] && !mailbox.hasItems)

        let poster = Thread {
            mailbox.post(2)
            mailbox.post(3)
        }
        poster.start()
        #expect(try poller.poll(timeoutMilliseconds: 5000) == 1, "another thread's post signals")
        while taken.count < 3 {
            mailbox.take(into: &taken, signalled: poller.isReadable(0))
            if taken.count < 3 { _ = try poller.poll(timeoutMilliseconds: 100) }
        }
        #expect(taken == [1, 2, 3])
        #expect(try poller.poll(timeoutMilliseconds: 0) == 0, "the take cleared the signal")
    }

    @Test("a post the loop catches while watching for it (awaitItems) needs no wake-up signal; one after the watch signals")
    func watchedPostSkipsSignal() throws {
        let mailbox = try Mailbox<Int>()
        mailbox.adoptCurrentThread()
        var poller = Poller([mailbox.signal.pollItem])
        let poster = Thread {
            Thread.sleep(forTimeInterval: 0.01)
            mailbox.post(1)
        }
        poster.start()
        #expect(mailbox.awaitItems(nanoseconds: 5_000_000_000))
        #expect(try poller.poll(timeoutMilliseconds: 0) == 0, "the watched post did not signal")
        var taken: [Int] = []
        mailbox.take(into: &taken, signalled: false)
        #expect(taken == [1])

        #expect(!mailbox.awaitItems(nanoseconds: 1_000), "nothing came within the wait")
        let late = Thread { mailbox.post(2) }
        late.start()
        #expect(try poller.poll(timeoutMilliseconds: 5000) == 1, "a post after the watch signals")
        mailbox.take(into: &taken, signalled: poller.isReadable(0))
        #expect(taken == [1, 2])
    }

    @Test("a task preferring a loop executor runs on the loop thread; its own re-enqueues there signal nothing")
    func executorRunsLoopThreadJobs() async throws {
        let executor = try LoopExecutor()
        let wakes = Atomic<Int>(0)
        let loop = Thread {
            executor.adoptCurrentThread()
            var poller = Poller([executor.pollItem])
            var signalled = false
            while !Thread.current.isCancelled {
                executor.runPendingJobs(signalled: signalled)
                _ = try? poller.poll(timeoutMilliseconds: executor.hasPendingJobs ? 0 : 50)
                signalled = poller.isReadable(0)
                if signalled { wakes.add(1, ordering: .relaxed) }
            }
        }
        loop.start()
        defer { loop.cancel() }
        // The task hops onto the loop thread, then suspends and resumes there (its own enqueue).
        let hops = await Task(executorPreference: executor) { () -> Int in
            var count = 0
            for _ in 0..<100 {
                await Task.yield()
                count += 1
            }
            return count
        }.value
        #expect(hops == 100)
        #expect(wakes.load(ordering: .relaxed) <= 2, "only the hops from other threads (start, and back after the task) signal")
    }
}
