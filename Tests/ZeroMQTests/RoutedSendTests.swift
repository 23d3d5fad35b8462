import Foundation
import Testing
import ZeroMQ

@Suite("ROUTER sends that tell a gone peer apart")
struct RoutedSendTests {
    @Test("sendRouted queues to a connected peer, says unreachable once it disconnected, and leaves routing not mandatory")
    func goneDealerIsUnreachable() async throws {
        let context = try Context()
        let router = try Socket(context, type: .router)
        try router.bind("tcp://127.0.0.1:0")
        let endpoint = try router.lastEndpoint()
        let id: [UInt8] = Array("dealer-1".utf8)
        do {
            let dealer = try Socket(context, type: .dealer)
            try dealer.setRoutingID(id)
            try dealer.connect(endpoint)
            try dealer.send([1], blocking: true)
            let buffer = Multipart(capacity: 4)
            #expect(try router.receive(into: buffer, blocking: true))
            #expect(try id.withUnsafeBytes { try router.sendRouted(to: $0, [[2], [3]]) } == .sent)
            #expect(try dealer.receiveFrames() == [[2], [3]])
            let stranger: [UInt8] = Array("nobody".utf8)
            #expect(try stranger.withUnsafeBytes { try router.sendRouted(to: $0, [[4]]) } == .unreachable)
            #expect(try router.send(stranger, more: true), "afterwards a send to an unknown peer is dropped, as before")
            try router.send([5])
        }  // the dealer closes its connection here, as a killed process's closes
        let deadline = Date().addingTimeInterval(10)
        var outcome = RoutedSendOutcome.sent
        while outcome != .unreachable && Date() < deadline {
            try await Task.sleep(for: .milliseconds(10))
            outcome = try id.withUnsafeBytes { try router.sendRouted(to: $0, [[6]]) }
        }
        #expect(outcome == .unreachable)
    }
}
