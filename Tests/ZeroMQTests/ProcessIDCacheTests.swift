import CProcessID
import Foundation
import Testing
import ZeroMQ

@Suite("The cached getpid linked into zgrid and the test runner")
struct ProcessIDCacheTests {
    @Test("libraries' calls to getpid reach the cache, which answers the kernel's process id")
    func cacheAnswersForTheLibraries() {
        #expect(zgrid_process_id_cache_active())
        #expect(getpid() == zgrid_kernel_process_id())
    }

    @Test("a forked child sees its own process id, not its parent's")
    func forkedChildSeesItsOwnID() {
        #expect(zgrid_process_id_cache_follows_fork())
    }

    @Test("libzmq works across many wake-ups with the cache in place")
    func libzmqSignalsWithTheCache() throws {
        let context = try Context()
        let pull = try Socket(context, type: .pull)
        try pull.bind("inproc://pid-cache")
        let push = try Socket(context, type: .push)
        try push.connect("inproc://pid-cache")
        for round in 0..<200 {
            try push.send([UInt8(truncatingIfNeeded: round)])
            #expect(try pull.receiveFrames() == [[UInt8(truncatingIfNeeded: round)]])
        }
    }
}
