import Foundation
import Testing
import ZeroMQ

@Suite("The libzmq wrapper")
struct WrapperTests {
    @Test("multipart messages round-trip over inproc, frames moved into a reusable buffer")
    func roundTrip() throws {
        let context = try Context()
        let server = try Socket(context, type: .pair)
        try server.bind("inproc://wrapper-round-trip")
        let client = try Socket(context, type: .pair)
        try client.connect("inproc://wrapper-round-trip")
        let big = [UInt8](repeating: 7, count: 100_000)
        #expect(try client.send(frames: [[1, 2, 3], [], big], blocking: true))
        let buffer = Multipart(capacity: 2)
        #expect(try server.receive(into: buffer, blocking: true))
        #expect(buffer.count == 2)
        #expect(buffer.truncated, "a third frame does not fit in two")
        #expect(buffer.bytes(0) == [1, 2, 3])
        #expect(buffer.size(1) == 0)
        #expect(try server.receive(into: buffer) == false, "nothing more is waiting")
        #expect(try client.send(frames: [[9], big], blocking: true))
        let roomy = Multipart(capacity: 4)
        #expect(try server.receive(into: roomy, blocking: true))
        #expect(try server.send(frames: 0..<2, of: roomy, consume: true, blocking: true))
        #expect(roomy.size(1) == 0, "sent frames are given away")
        #expect(try client.receiveFrames() == [[9], big])
    }

    @Test("a poller wakes on a wake signal and on a readable socket")
    func poller() throws {
        let context = try Context()
        let wake = try WakeSignal()
        let socket = try Socket(context, type: .pull)
        try socket.bind("inproc://wrapper-poller")
        var poller = Poller([socket.pollItem(), wake.pollItem])
        #expect(try poller.poll(timeoutMilliseconds: 0) == 0)
        wake.signal()
        wake.signal()
        #expect(try poller.poll(timeoutMilliseconds: 1000) == 1)
        #expect(poller.isReadable(1) && !poller.isReadable(0))
        wake.drain()
        #expect(try poller.poll(timeoutMilliseconds: 0) == 0, "drained")
        let push = try Socket(context, type: .push)
        try push.connect("inproc://wrapper-poller")
        try push.send([42], blocking: true)
        #expect(try poller.poll(timeoutMilliseconds: 1000) == 1)
        #expect(poller.isReadable(0))
    }

    @Test("a socket polled on its descriptor alone wakes the poller for each new message once drained, and not before one comes")
    func drainedPollItem() throws {
        let context = try Context()
        let pull = try Socket(context, type: .pull)
        try pull.bind("inproc://wrapper-poller-drained")
        let push = try Socket(context, type: .push)
        try push.connect("inproc://wrapper-poller-drained")
        let buffer = Multipart(capacity: 2)
        var poller = Poller([try pull.drainedPollItem()])
        while try pull.receive(into: buffer) {}
        #expect(try poller.poll(timeoutMilliseconds: 20) == 0, "nothing sent yet")
        for round in 1...3 {
            try push.send([UInt8(round)], blocking: true)
            try push.send([UInt8(round)], blocking: true)
            #expect(try poller.poll(timeoutMilliseconds: 5000) == 1, "round \(round): the new messages wake it")
            var received = 0
            while try pull.receive(into: buffer) { received += 1 }
            #expect(received == 2)
            #expect(try poller.poll(timeoutMilliseconds: 20) == 0, "round \(round): drained, nothing new")
        }
    }

    @Test(
        "a poller reports a socket and a raw descriptor ready together, waits out its timeout, and wakes for a message sent while it blocks"
    )
    func pollerBlocking() throws {
        let context = try Context()
        let wake = try WakeSignal()
        let pull = try Socket(context, type: .pull)
        try pull.bind("inproc://wrapper-poller-blocking")
        let push = try Socket(context, type: .push)
        try push.connect("inproc://wrapper-poller-blocking")
        var poller = Poller([wake.pollItem, pull.pollItem(), push.pollItem(readable: false, writable: true)])
        #expect(try poller.poll(timeoutMilliseconds: 1000) == 1, "only the PUSH socket is ready: writable")
        #expect(poller.isWritable(2) && !poller.isReadable(1) && !poller.isReadable(0))

        var waitOnly = Poller([wake.pollItem, pull.pollItem()])
        let started = ContinuousClock.now
        #expect(try waitOnly.poll(timeoutMilliseconds: 60) == 0)
        #expect(ContinuousClock.now - started >= .milliseconds(50), "the timeout is waited out")

        try push.send([1], blocking: true)
        wake.signal()
        #expect(try waitOnly.poll(timeoutMilliseconds: 1000) == 2)
        #expect(waitOnly.isReadable(0) && waitOnly.isReadable(1))
        wake.drain()
        let buffer = Multipart(capacity: 2)
        #expect(try pull.receive(into: buffer))
        #expect(try pull.receive(into: buffer) == false)

        // A message sent from another thread while the poller blocks wakes it.
        let sender = Thread {
            Thread.sleep(forTimeInterval: 0.05)
            guard let late = try? Socket(context, type: .push) else { return }
            try? late.connect("inproc://wrapper-poller-blocking")
            _ = try? late.send([2], blocking: true)
            try? late.setLinger(milliseconds: 1000)
        }
        sender.start()
        #expect(try waitOnly.poll(timeoutMilliseconds: 5000) == 1)
        #expect(waitOnly.isReadable(1) && !waitOnly.isReadable(0))
        #expect(try pull.receive(into: buffer))
        #expect(buffer.bytes(0) == [2])
    }

    @Test("errors carry the operation and libzmq's text")
    func errors() throws {
        let context = try Context()
        let socket = try Socket(context, type: .router)
        let error = #expect(throws: ZMQError.self) { try socket.bind("nonsense://nowhere") }
        #expect(error?.operation == "bind nonsense://nowhere")
        #expect(error?.message.isEmpty == false)
        #expect(error?.description.contains("errno") == true)
        #expect(zmqHas("curve"))
        #expect(zmqVersion().major == 4)
        try socket.bind("tcp://127.0.0.1:0")
        #expect(try socket.lastEndpoint().hasPrefix("tcp://127.0.0.1:"))
    }
}
