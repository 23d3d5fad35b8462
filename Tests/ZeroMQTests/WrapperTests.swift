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
